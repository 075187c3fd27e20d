/**
 * ACL property benchmark (`npm run bench:acl`): search never returns a chunk its reader may not read.
 *
 * 1. resets and migrates its own database (`--db`, default quarry_bench_acl), starts the built API and
 *    worker, creates a tenant through the platform API;
 * 2. creates random users (every role; the owner takes part too — administrators see every document in
 *    listings, but search is filtered for them as for anyone), groups with random members, and collections
 *    with random default readers (everyone, users, groups, or nobody);
 * 3. uploads thousands of short documents through the public API and waits until they are indexed, then
 *    gives a share of them their own readers (document overrides);
 * 4. runs random searches as random signed-in users in every mode (lexical, dense, hybrid; rerank asked for
 *    in a third of them), over random collections, with random top-k; halfway it changes collection
 *    defaults, document overrides (set and cleared) and group memberships, and searches again;
 * 5. checks every returned chunk against an oracle computed here from the ACL definitions alone (readers =
 *    the document's own grants if it has any, else its collection's; a user reads when a grant names
 *    everyone, them, or a group they are in) — never from what the database stores. `violations` must be 0.
 *
 * Writes bench/results/acl-property.{json,md} (acl-property-quick.* for reduced runs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '@quarry/evals';
import { PASSWORD, uploadAll } from './api';
import { runBenchmark, writeResultFiles } from './entry';
import { log, waitUntilSettled } from './measure';
import { assertBenchDatabase, databaseEnv, gitFacts, machineFacts, OwnerDb, postgresFacts, prepareDatabase } from './platform';
import { round } from './processes';
import { Stack } from './stack';

const repoRoot = path.resolve(__dirname, '../..');

const FULL = { documents: 2_000, users: 30, groups: 8, collections: 6, searches: 10_000 };

const usage = `Usage: npm run bench:acl -- [options]

Random users, groups and ACLs over thousands of short documents; random searches in every mode as random
users, each returned chunk checked against an oracle computed from the ACL definitions. Needs a build.
  --documents N    documents (default ${FULL.documents})
  --users N        users besides the owner (default ${FULL.users})
  --groups N       groups (default ${FULL.groups})
  --collections N  collections (default ${FULL.collections})
  --searches N     searches, half before and half after the ACL changes (default ${FULL.searches})
  --concurrency N  searches in flight at once (default 4)
  --seed N         random seed (default 42)
  --db NAME        database (default quarry_bench_acl; reset)`;

interface Options {
  documents: number;
  users: number;
  groups: number;
  collections: number;
  searches: number;
  concurrency: number;
  seed: number;
  db: string;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      documents: { type: 'string' },
      users: { type: 'string' },
      groups: { type: 'string' },
      collections: { type: 'string' },
      searches: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      seed: { type: 'string', default: '42' },
      db: { type: 'string', default: 'quarry_bench_acl' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const int = (value: string | undefined, fallback: number, name: string) => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer`);
    return parsed;
  };
  return {
    documents: int(values.documents, FULL.documents, 'documents'),
    users: int(values.users, FULL.users, 'users'),
    groups: int(values.groups, FULL.groups, 'groups'),
    collections: int(values.collections, FULL.collections, 'collections'),
    searches: int(values.searches, FULL.searches, 'searches'),
    concurrency: int(values.concurrency, 4, 'concurrency'),
    seed: int(values.seed, 42, 'seed'),
    db: values.db,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Randomness (seeded, so a failing run can be repeated)
// ---------------------------------------------------------------------------------------------------------

class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]!);
    return out;
  }
}

const vocabulary = (
  'river mountain forest ocean desert island valley glacier volcano canyon meadow prairie harbor lagoon ' +
  'engine turbine battery circuit sensor antenna satellite rocket compiler database network protocol ' +
  'protein enzyme neuron membrane genome vaccine antibody bacteria virus molecule crystal polymer ' +
  'contract invoice budget audit merger pension salary payroll revenue forecast dividend ledger ' +
  'harvest orchard vineyard wheat barley cattle poultry irrigation fertilizer tractor greenhouse compost ' +
  'symphony sculpture painting novel poetry theater ballet cinema festival museum gallery chorus ' +
  'hospital surgery therapy diagnosis clinic pharmacy nurse patient ambulance radiology cardiology vaccine'
).split(' ');

// ---------------------------------------------------------------------------------------------------------
// The oracle: who may read what, from the ACL definitions alone
// ---------------------------------------------------------------------------------------------------------

interface Acl {
  everyone: boolean;
  users: string[];
  groups: string[];
}

class Oracle {
  readonly collectionAcl = new Map<string, Acl>();
  /** Documents with their own readers. */
  readonly documentAcl = new Map<string, Acl>();
  readonly collectionOf = new Map<string, string>();
  readonly groupsOf = new Map<string, Set<string>>();

  readable(userId: string, documentId: string): boolean {
    const collection = this.collectionOf.get(documentId);
    if (!collection) return false;
    const own = this.documentAcl.get(documentId);
    // A document without a grant of its own follows its collection (an empty override is no override).
    const acl = own && grants(own) > 0 ? own : this.collectionAcl.get(collection);
    if (!acl) return false;
    if (acl.everyone || acl.users.includes(userId)) return true;
    const groups = this.groupsOf.get(userId) ?? new Set<string>();
    return acl.groups.some((group) => groups.has(group));
  }
}

function grants(acl: Acl): number {
  return (acl.everyone ? 1 : 0) + acl.users.length + acl.groups.length;
}

function randomAcl(random: Random, users: readonly string[], groups: readonly string[], everyoneChance: number): Acl {
  return {
    everyone: random.chance(everyoneChance),
    users: random.sample(users, random.int(0, 3)),
    groups: random.sample(groups, random.int(0, 2)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP as a signed-in user
// ---------------------------------------------------------------------------------------------------------

class Session {
  private constructor(
    private readonly baseUrl: string,
    readonly userId: string,
    readonly role: string,
    private readonly cookie: string,
    private readonly csrf: string,
  ) {}

  static async signIn(baseUrl: string, slug: string, email: string, role: string): Promise<Session> {
    const response = await fetch(`${baseUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: slug, email, password: PASSWORD }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`sign in ${email}: HTTP ${response.status} ${text}`);
    const body = JSON.parse(text) as { csrfToken: string; user: { id: string } };
    const cookie = response.headers
      .getSetCookie()
      .map((header) => header.split(';')[0]?.trim() ?? '')
      .find((pair) => pair.startsWith('quarry_session='));
    if (!cookie) throw new Error(`sign in ${email}: no session cookie`);
    return new Session(baseUrl, body.user.id, role, cookie, body.csrfToken);
  }

  async request<T>(method: string, route: string, body: unknown, expected: number): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: { cookie: this.cookie, 'x-csrf-token': this.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`${method} ${route}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

interface SearchBody {
  results: { documentId: string; collectionId: string; chunkId: string }[];
  rerank: { requested: boolean; applied: boolean };
  timingsMs: { total: number };
}

type Mode = 'lexical' | 'dense' | 'hybrid';
const modes: Mode[] = ['lexical', 'dense', 'hybrid'];

interface PhaseResult {
  searches: number;
  byMode: Record<Mode, number>;
  rerankRequested: number;
  rerankApplied: number;
  resultsChecked: number;
  searchesWithResults: number;
  /** Searches whose reader could read at least one document in the searched collections. */
  searchesWithReadableDocuments: number;
  violations: number;
  collectionFilterViolations: number;
  violationExamples: { userId: string; documentId: string; mode: Mode; query: string }[];
  serverMs: number[];
  seconds: number;
}

// ---------------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------------

let activeStack: Stack | undefined;

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(usage);
    return;
  }
  const options = parsed;
  assertBenchDatabase(options.db);
  const quick = options.documents < FULL.documents || options.searches < FULL.searches || options.users < FULL.users;
  const random = new Random(options.seed);
  const dbEnv = await databaseEnv(repoRoot, options.db);
  log((await prepareDatabase(repoRoot, dbEnv, true)).replace(/\n/g, ' | '));
  const ownerDb = await OwnerDb.connect(dbEnv.DATABASE_OWNER_URL);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'quarry-bench-acl-'));
  const stackSettings = { LOG_LEVEL: 'warn', LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '10000', UPLOAD_MAX_FILES: '200' };
  const facts = { machine: machineFacts(), git: await gitFacts(repoRoot), postgres: await postgresFacts(ownerDb) };
  const started = performance.now();
  const stack = await Stack.start({ repoRoot, workDir, db: dbEnv, settings: stackSettings });
  activeStack = stack;
  let succeeded = false;
  try {
    const tenant = await stack.platform.createTenant('acl');
    const owner = await Session.signIn(stack.api.url, tenant.slug, `owner@${tenant.slug}.bench.example.com`, 'owner');
    const oracle = new Oracle();

    // Users (every role) and the owner; groups with random members.
    const setupStarted = performance.now();
    const sessions: Session[] = [owner];
    const roles = ['viewer', 'member', 'admin'] as const;
    for (let index = 0; index < options.users; index += 1) {
      const role = roles[index % roles.length]!;
      const email = `user-${index}@${tenant.slug}.bench.example.com`;
      await owner.request('POST', '/v1/users', { email, displayName: `User ${index}`, role, password: PASSWORD }, 201);
      sessions.push(await Session.signIn(stack.api.url, tenant.slug, email, role));
    }
    const userIds = sessions.map((session) => session.userId);
    for (const id of userIds) oracle.groupsOf.set(id, new Set());
    const groupIds: string[] = [];
    for (let index = 0; index < options.groups; index += 1) {
      groupIds.push((await owner.request<{ id: string }>('POST', '/v1/groups', { name: `group-${index}` }, 201)).id);
    }
    for (const userId of userIds) {
      for (const groupId of random.sample(groupIds, random.int(0, 3))) {
        await owner.request('PUT', `/v1/groups/${groupId}/members/${userId}`, undefined, 204);
        oracle.groupsOf.get(userId)!.add(groupId);
      }
    }

    // Collections with random default readers; the first one is readable by nobody.
    const collectionIds: string[] = [];
    for (let index = 0; index < options.collections; index += 1) {
      const id = (await owner.request<{ id: string }>('POST', '/v1/collections', { name: `acl-${index}` }, 201)).id;
      const acl = index === 0 ? { everyone: false, users: [], groups: [] } : randomAcl(random, userIds, groupIds, 0.2);
      await owner.request('PUT', `/v1/collections/${id}/access`, acl, 200);
      oracle.collectionAcl.set(id, acl);
      collectionIds.push(id);
    }
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    // Short documents, spread over the collections, uploaded through the API.
    const ingestStarted = performance.now();
    const planned = Array.from({ length: options.documents }, (_, index) => ({
      collectionId: collectionIds[index % collectionIds.length]!,
      name: `doc-${String(index).padStart(5, '0')}.txt`,
      text: Array.from({ length: random.int(8, 16) }, () => random.pick(vocabulary)).join(' '),
    }));
    for (const collectionId of collectionIds) {
      const files = planned
        .filter((doc) => doc.collectionId === collectionId)
        .map((doc) => ({ name: doc.name, type: 'text/plain', content: Buffer.from(`${doc.text}\n`, 'utf8') }));
      const { documents } = await uploadAll(tenant, collectionId, files, 200);
      for (const document of documents) oracle.collectionOf.set(document.id, collectionId);
    }
    for (const collectionId of collectionIds) await waitUntilSettled(stack, ownerDb, tenant, collectionId, `ingest ${collectionId}`, 300);
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const documentIds = [...oracle.collectionOf.keys()];
    log(`${documentIds.length} documents indexed in ${round(ingestSeconds, 1)} s`);

    // A share of the documents get their own readers.
    const overrides = Math.round(documentIds.length * 0.3);
    for (const documentId of random.sample(documentIds, overrides)) {
      const acl = randomAcl(random, userIds, groupIds, 0.15);
      await owner.request('PUT', `/v1/documents/${documentId}/access`, acl, 200);
      oracle.documentAcl.set(documentId, acl);
    }

    const half = Math.floor(options.searches / 2);
    log(`phase 1: ${half} searches`);
    const before = await searchPhase(sessions, collectionIds, oracle, random, half, options.concurrency);

    // Change the ACLs: collection defaults, document overrides (new and cleared), group memberships.
    const changes = { collectionDefaults: 0, documentOverridesSet: 0, documentOverridesCleared: 0, membershipsAdded: 0, membershipsRemoved: 0 };
    for (const collectionId of random.sample(collectionIds.slice(1), 2)) {
      const acl = randomAcl(random, userIds, groupIds, 0.2);
      await owner.request('PUT', `/v1/collections/${collectionId}/access`, acl, 200);
      oracle.collectionAcl.set(collectionId, acl);
      changes.collectionDefaults += 1;
    }
    for (const documentId of random.sample(documentIds, Math.round(documentIds.length * 0.05))) {
      if (oracle.documentAcl.has(documentId) && random.chance(0.5)) {
        await owner.request('DELETE', `/v1/documents/${documentId}/access`, undefined, 200);
        oracle.documentAcl.delete(documentId);
        changes.documentOverridesCleared += 1;
      } else {
        const acl = randomAcl(random, userIds, groupIds, 0.15);
        await owner.request('PUT', `/v1/documents/${documentId}/access`, acl, 200);
        oracle.documentAcl.set(documentId, acl);
        changes.documentOverridesSet += 1;
      }
    }
    for (const userId of random.sample(userIds, Math.max(1, Math.round(userIds.length / 2)))) {
      const groupId = random.pick(groupIds);
      const groups = oracle.groupsOf.get(userId)!;
      if (groups.has(groupId)) {
        await owner.request('DELETE', `/v1/groups/${groupId}/members/${userId}`, undefined, 204);
        groups.delete(groupId);
        changes.membershipsRemoved += 1;
      } else {
        await owner.request('PUT', `/v1/groups/${groupId}/members/${userId}`, undefined, 204);
        groups.add(groupId);
        changes.membershipsAdded += 1;
      }
    }
    log(`ACL changes: ${JSON.stringify(changes)}; phase 2: ${options.searches - half} searches`);
    const afterChanges = await searchPhase(sessions, collectionIds, oracle, random, options.searches - half, options.concurrency);

    const phases = [before, afterChanges];
    const sum = (key: 'searches' | 'resultsChecked' | 'searchesWithResults' | 'searchesWithReadableDocuments' | 'violations' | 'collectionFilterViolations' | 'rerankRequested' | 'rerankApplied') =>
      phases.reduce((total, phase) => total + phase[key], 0);
    const serverMs = phases.flatMap((phase) => phase.serverMs);
    const result = {
      benchmark: 'acl-property',
      quick,
      date: new Date().toISOString(),
      violations: sum('violations'),
      collectionFilterViolations: sum('collectionFilterViolations'),
      searches: sum('searches'),
      resultsChecked: sum('resultsChecked'),
      searchesWithResults: sum('searchesWithResults'),
      searchesWithReadableDocuments: sum('searchesWithReadableDocuments'),
      byMode: Object.fromEntries(modes.map((mode) => [mode, phases.reduce((total, phase) => total + phase.byMode[mode], 0)])),
      rerank: { requested: sum('rerankRequested'), applied: sum('rerankApplied') },
      documents: documentIds.length,
      documentOverrides: overrides,
      users: userIds.length,
      usersByRole: Object.fromEntries(['owner', ...roles].map((role) => [role, sessions.filter((session) => session.role === role).length])),
      groups: groupIds.length,
      collections: collectionIds.length,
      aclChangesBetweenPhases: changes,
      phases: phases.map((phase, index) => ({
        phase: index === 0 ? 'before ACL changes' : 'after ACL changes',
        searches: phase.searches,
        violations: phase.violations,
        resultsChecked: phase.resultsChecked,
        seconds: round(phase.seconds, 1),
        searchesPerSecond: round(phase.searches / phase.seconds, 1),
      })),
      timing: {
        setupSeconds: round(setupSeconds, 1),
        ingestSeconds: round(ingestSeconds, 1),
        searchSeconds: round(before.seconds + afterChanges.seconds, 1),
        totalSeconds: round((performance.now() - started) / 1000, 1),
        serverLatencyMs: { p50: round(percentile(serverMs, 50)), p95: round(percentile(serverMs, 95)) },
      },
      violationExamples: phases.flatMap((phase) => phase.violationExamples).slice(0, 20),
      definitions: {
        violations: 'returned chunks whose document the searching user may not read according to the oracle (or that belong to no document this run created)',
        oracle: "readers = the document's own grants if it has any (an override with no grant is none), else its collection's (a collection with no grant: nobody); a user reads when a grant names everyone, the user, or one of the user's groups (computed in the benchmark from the definitions it sent, never from the database)",
        searchesWithReadableDocuments: 'searches whose user could read at least one document in the searched collections (the rest must return nothing)',
        collectionFilterViolations: 'returned chunks outside the collections the search named',
        serverLatencyMs: "p50/p95 of the response's timingsMs.total over every search",
      },
      settings: { seed: options.seed, concurrency: options.concurrency, database: options.db, stack: { ...stackSettings, NODE_ENV: 'production' }, ...facts },
    };
    await writeResultFiles(path.join(repoRoot, 'bench/results'), quick ? 'acl-property-quick' : 'acl-property', result, renderMarkdown(result));
    if (result.violations > 0 || result.collectionFilterViolations > 0) {
      throw new Error(`${result.violations} ACL violations and ${result.collectionFilterViolations} collection filter violations`);
    }
    succeeded = true;
  } catch (error) {
    console.error(`--- api log (end) ---\n${await stack.api.tail()}\n--- worker log (end) ---\n${await stack.worker.tail()}`);
    throw error;
  } finally {
    activeStack = undefined;
    await stack.stop();
    await ownerDb.close();
    if (succeeded) await rm(workDir, { recursive: true, force: true });
    else log(`work directory kept: ${workDir}`);
  }
}

async function searchPhase(
  sessions: readonly Session[],
  collectionIds: readonly string[],
  oracle: Oracle,
  random: Random,
  count: number,
  concurrency: number,
): Promise<PhaseResult> {
  const phase: PhaseResult = {
    searches: 0,
    byMode: { lexical: 0, dense: 0, hybrid: 0 },
    rerankRequested: 0,
    rerankApplied: 0,
    resultsChecked: 0,
    searchesWithResults: 0,
    searchesWithReadableDocuments: 0,
    violations: 0,
    collectionFilterViolations: 0,
    violationExamples: [],
    serverMs: [],
    seconds: 0,
  };
  // Plan every search first (the random stream stays reproducible whatever the completion order).
  const plans = Array.from({ length: count }, () => {
    const session = random.pick(sessions);
    const scoped = random.chance(0.6) ? random.sample(collectionIds, random.int(1, Math.min(3, collectionIds.length))) : undefined;
    return {
      session,
      mode: random.pick(modes),
      rerank: random.chance(1 / 3),
      query: Array.from({ length: random.int(1, 3) }, () => random.pick(vocabulary)).join(' '),
      collectionIds: scoped,
      topK: random.int(1, 50),
    };
  });
  const readableIn = (userId: string, scope: readonly string[] | undefined) => {
    const allowed = new Set(scope ?? collectionIds);
    for (const [documentId, collectionId] of oracle.collectionOf) {
      if (allowed.has(collectionId) && oracle.readable(userId, documentId)) return true;
    }
    return false;
  };
  const started = performance.now();
  let next = 0;
  let reported = performance.now();
  const workerLoop = async (): Promise<void> => {
    while (next < plans.length) {
      const plan = plans[next++]!;
      const response = await plan.session.request<SearchBody>(
        'POST',
        '/v1/search',
        { query: plan.query, mode: plan.mode, rerank: plan.rerank, topK: plan.topK, ...(plan.collectionIds ? { collectionIds: plan.collectionIds } : {}) },
        200,
      );
      phase.searches += 1;
      phase.byMode[plan.mode] += 1;
      if (plan.rerank) phase.rerankRequested += 1;
      if (response.rerank.applied) phase.rerankApplied += 1;
      phase.serverMs.push(response.timingsMs.total);
      if (response.results.length > 0) phase.searchesWithResults += 1;
      if (readableIn(plan.session.userId, plan.collectionIds)) phase.searchesWithReadableDocuments += 1;
      for (const result of response.results) {
        phase.resultsChecked += 1;
        if (!oracle.readable(plan.session.userId, result.documentId)) {
          phase.violations += 1;
          if (phase.violationExamples.length < 20) {
            phase.violationExamples.push({ userId: plan.session.userId, documentId: result.documentId, mode: plan.mode, query: plan.query });
          }
        }
        if (plan.collectionIds && !plan.collectionIds.includes(result.collectionId)) phase.collectionFilterViolations += 1;
      }
      if (performance.now() - reported > 15_000) {
        reported = performance.now();
        log(`${phase.searches}/${count} searches, ${phase.resultsChecked} chunks checked, ${phase.violations} violations`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => workerLoop()));
  phase.seconds = (performance.now() - started) / 1000;
  return phase;
}

function renderMarkdown(result: {
  quick: boolean;
  date: string;
  violations: number;
  collectionFilterViolations: number;
  searches: number;
  resultsChecked: number;
  searchesWithResults: number;
  searchesWithReadableDocuments: number;
  byMode: Record<string, number>;
  rerank: { requested: number; applied: number };
  documents: number;
  documentOverrides: number;
  users: number;
  groups: number;
  collections: number;
  timing: { setupSeconds: number; ingestSeconds: number; searchSeconds: number; totalSeconds: number; serverLatencyMs: { p50: number; p95: number } };
}): string {
  const rows: [string, string][] = [
    ['violations', String(result.violations)],
    ['collection filter violations', String(result.collectionFilterViolations)],
    ['searches', `${result.searches} (lexical ${result.byMode.lexical}, dense ${result.byMode.dense}, hybrid ${result.byMode.hybrid})`],
    ['rerank requested / applied', `${result.rerank.requested} / ${result.rerank.applied}`],
    ['chunks checked', String(result.resultsChecked)],
    ['searches with results / with readable documents', `${result.searchesWithResults} / ${result.searchesWithReadableDocuments}`],
    ['documents (own readers)', `${result.documents} (${result.documentOverrides})`],
    ['users / groups / collections', `${result.users} / ${result.groups} / ${result.collections}`],
    ['setup / ingest / search (s)', `${result.timing.setupSeconds} / ${result.timing.ingestSeconds} / ${result.timing.searchSeconds}`],
    ['server latency p50 / p95 (ms)', `${result.timing.serverLatencyMs.p50} / ${result.timing.serverLatencyMs.p95}`],
  ];
  return [
    `# ACL property${result.quick ? ' (quick run)' : ''}`,
    '',
    `${result.date}. Every chunk returned by a random search, as a random user, checked against an oracle computed from the ACL definitions.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
  ].join('\n');
}

runBenchmark('acl-property', main, () => activeStack);
