/**
 * The benchmark's own database (created and migrated with the project's scripts), read-only checks in it
 * as the owner role, and the facts about the machine and its services a result must carry.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';

const run = promisify(execFile);

export interface DatabaseEnv {
  QUARRY_DB_NAME: string;
  DATABASE_URL: string;
  DATABASE_OWNER_URL: string;
  DATABASE_ADMIN_URL: string;
  REDIS_URL: string;
}

/** A database name the benchmark may drop and recreate: its own, never the development or test one. */
export function assertBenchDatabase(name: string): void {
  if (!/^quarry_bench[a-z0-9_]*$/.test(name)) {
    throw new Error(`QUARRY_DB_NAME=${name}: the benchmark runs only in its own database (quarry_bench or quarry_bench_*), which it resets`);
  }
}

/**
 * The URLs scripts/env.sh derives for QUARRY_DB_NAME. Inherited DATABASE_URL / DATABASE_OWNER_URL are dropped
 * first, so a shell set up for the development database cannot point the benchmark at it.
 */
function scriptEnv(dbName: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, QUARRY_DB_NAME: dbName };
  delete env.DATABASE_URL;
  delete env.DATABASE_OWNER_URL;
  return env;
}

export async function databaseEnv(repoRoot: string, dbName: string): Promise<DatabaseEnv> {
  const { stdout } = await run(
    'bash',
    ['-c', 'source scripts/env.sh && printf "%s\\n" "$DATABASE_URL" "$DATABASE_OWNER_URL" "$DATABASE_ADMIN_URL" "$REDIS_URL"'],
    { cwd: repoRoot, env: scriptEnv(dbName) },
  );
  const [appUrl, ownerUrl, adminUrl, redisUrl] = stdout.trim().split('\n');
  if (!appUrl || !ownerUrl || !adminUrl || !redisUrl) throw new Error(`scripts/env.sh gave incomplete settings: ${stdout}`);
  for (const url of [appUrl, ownerUrl]) {
    const database = decodeURIComponent(new URL(url).pathname.slice(1));
    if (database !== dbName) throw new Error(`scripts/env.sh points at database ${database}, expected ${dbName}`);
  }
  return { QUARRY_DB_NAME: dbName, DATABASE_URL: appUrl, DATABASE_OWNER_URL: ownerUrl, DATABASE_ADMIN_URL: adminUrl, REDIS_URL: redisUrl };
}

/** Drops the benchmark database (unless kept), then creates and migrates it exactly as the project does. */
export async function prepareDatabase(repoRoot: string, env: DatabaseEnv, reset: boolean): Promise<string> {
  assertBenchDatabase(env.QUARRY_DB_NAME);
  // PostgreSQL with pgvector and Redis, started (or installed) if missing; a quick check when they run.
  const services = await run('bash', ['scripts/ensure-services.sh'], { cwd: repoRoot, env: scriptEnv(env.QUARRY_DB_NAME) });
  if (reset) {
    const admin = new Client({ connectionString: env.DATABASE_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${env.QUARRY_DB_NAME}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  const { stdout, stderr } = await run(
    'bash',
    ['-c', 'source scripts/env.sh && node libs/db/dist/migrate/cli.js bootstrap deploy'],
    { cwd: repoRoot, env: scriptEnv(env.QUARRY_DB_NAME) },
  );
  return `${services.stdout}${stdout}${stderr}`.trim();
}

/** Read-only questions as the owner role (it has a maintenance policy on every tenant table). */
export class OwnerDb {
  private constructor(private readonly client: Client) {}

  static async connect(url: string): Promise<OwnerDb> {
    const client = new Client({ connectionString: url });
    await client.connect();
    return new OwnerDb(client);
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  async one<T extends object>(sql: string, params: unknown[] = []): Promise<T> {
    const [row] = await this.query<T>(sql, params);
    if (!row) throw new Error(`no row for: ${sql}`);
    return row;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

const postgresSettings = [
  'server_version',
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'maintenance_work_mem',
  'max_connections',
  'synchronous_commit',
  'fsync',
  'wal_level',
  'max_wal_size',
  'checkpoint_timeout',
  'random_page_cost',
  'jit',
] as const;

export async function postgresFacts(db: OwnerDb): Promise<Record<string, string>> {
  const rows = await db.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`,
    [postgresSettings],
  );
  const facts: Record<string, string> = Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  const [vector] = await db.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`);
  facts.pgvector = vector?.extversion ?? 'absent';
  const indexes = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks' AND indexdef ILIKE '%hnsw%'`);
  facts.chunkVectorIndexes = indexes.map((row) => row.indexdef).join('; ') || 'none';
  return facts;
}

export async function redisFacts(url: string): Promise<Record<string, string>> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
    return { version };
  } catch (error) {
    return { version: `unavailable (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    redis.disconnect();
  }
}

/** Deletes every Redis key under the prefix (queues, fairness counters, rate limits) once the stack is gone. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Best effort: a finished benchmark must not fail because its leftovers could not be swept.
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function gitFacts(repoRoot: string): Promise<{ commit: string; uncommittedChanges: number }> {
  try {
    const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    const status = (await run('git', ['status', '--porcelain'], { cwd: repoRoot })).stdout;
    return { commit, uncommittedChanges: status.split('\n').filter((line) => line.trim() !== '').length };
  } catch {
    return { commit: 'unknown', uncommittedChanges: -1 };
  }
}

export function machineFacts(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((value) => value.toFixed(2)).join(' '),
  };
}
