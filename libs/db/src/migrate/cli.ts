import path from 'node:path';
import { bootstrapDatabase } from './bootstrap';
import { applyMigrations } from './migrations';
import { ensureVectorIndex } from './vector-index';

/**
 * `node libs/db/dist/migrate/cli.js [bootstrap] [deploy]`
 * bootstrap: roles, database and pgvector (needs DATABASE_ADMIN_URL, a superuser);
 * deploy: pending migrations as the owner (DATABASE_OWNER_URL);
 * vector-index <model> <dims>: the HNSW index for another embedding model (as the owner).
 */
async function main(): Promise<void> {
  const steps = process.argv.slice(2);
  const wanted = steps.length > 0 ? steps : ['deploy'];
  const ownerUrl = required('DATABASE_OWNER_URL');
  for (const step of wanted) {
    if (step === 'bootstrap') {
      await bootstrapDatabase({ adminUrl: required('DATABASE_ADMIN_URL'), ownerUrl, appUrl: required('DATABASE_URL') });
      console.log(`[migrate] roles, database and pgvector ready (${new URL(ownerUrl).pathname.slice(1)})`);
    } else if (step === 'deploy') {
      const directory = process.env.MIGRATIONS_DIR ?? path.resolve(__dirname, '../../../../prisma/migrations');
      const result = await applyMigrations(ownerUrl, directory);
      console.log(
        `[migrate] ${result.applied.length} applied${result.applied.length ? `: ${result.applied.join(', ')}` : ''}; ` +
          `${result.alreadyApplied.length} already applied`,
      );
    } else if (step === 'vector-index') {
      const [model, dims] = steps.slice(steps.indexOf(step) + 1);
      await ensureVectorIndex(ownerUrl, model ?? '', Number(dims));
      return;
    } else {
      throw new Error(`Unknown step "${step}" (expected bootstrap, deploy or vector-index <model> <dims>)`);
    }
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

main().catch((error: unknown) => {
  console.error(`[migrate] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
