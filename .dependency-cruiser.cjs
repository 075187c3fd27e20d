/**
 * Architecture rules (docs/architecture.md). `npm test` fails when code crosses them.
 * Libraries may depend only on the libraries listed for them; nothing depends on an app.
 */
const libs = {
  core: [],
  db: ['core'],
  observability: ['core', 'db'],
  audit: ['core', 'db'],
  metering: ['core', 'db', 'audit', 'observability'],
  jobs: ['core'],
  identity: ['core', 'db', 'audit'],
  testing: ['core', 'db', 'generation'],
  documents: ['core', 'db', 'audit'],
  storage: ['core'],
  models: ['core'],
  ingestion: ['core', 'db', 'documents', 'storage', 'models', 'jobs', 'metering'],
  evals: ['core', 'db', 'jobs', 'retrieval'],
  retrieval: ['core', 'db', 'models'],
  generation: ['core', 'db', 'audit'],
  chat: ['core', 'db', 'audit', 'metering', 'jobs', 'retrieval', 'generation'],
};

const libRules = Object.entries(libs).map(([lib, allowed]) => {
  const others = Object.keys(libs).filter((name) => name !== lib && !allowed.includes(name));
  return {
    name: `lib-${lib}-dependencies`,
    comment: `libs/${lib} may use only: ${allowed.length ? allowed.join(', ') : 'no other Quarry library'}`,
    severity: 'error',
    from: { path: `^libs/${lib}/` },
    to: { path: others.length ? `^libs/(${others.join('|')})/` : '^$' },
  };
});

module.exports = {
  forbidden: [
    ...libRules,
    {
      name: 'testing-only-in-tests',
      comment: '@quarry/testing serves integration/ and e2e/; production code never loads it.',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '^libs/testing/' },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-never-import-other-apps',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'e2e-is-a-black-box',
      comment: 'End-to-end tests drive the built apps over HTTP; they import no app code.',
      severity: 'error',
      from: { path: '^e2e/' },
      to: { path: '^apps/' },
    },
    {
      name: 'prisma-client-stays-in-db',
      comment: 'Only libs/db touches the generated Prisma client; everyone else goes through @quarry/db.',
      severity: 'error',
      from: { path: '^(apps|libs/(?!db/))' },
      to: { path: '(^libs/db/src/generated/|node_modules/@prisma/client/)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Generated Prisma code is exempt: its circles are type-only and not ours to fix.',
      from: { pathNot: '^libs/db/src/generated/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    // Resolves @quarry/* to the libraries' sources, so rules see lib-to-lib edges.
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
