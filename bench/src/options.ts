import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DocumentFormat } from './corpus';

export const FULL_FAIRNESS_BACKLOG = 2_000;
export const FULL_FAIRNESS_DOCS = 5;

export interface IngestionBenchOptions {
  /** Documents of the corpus to ingest; undefined = all of them. */
  limit: number | undefined;
  fairnessBacklog: number;
  fairnessDocs: number;
  uploadBatch: number;
  changedPct: number;
  format: DocumentFormat;
  maxTokens: number;
  overlapTokens: number;
  ingestConcurrency: number;
  tenantConcurrency: number;
  embedBatch: number;
  embedWaitMs: number;
  parseThreads: number;
  dbPoolMax: number;
  logLevel: string;
  keepDb: boolean;
  keepWork: boolean;
  profileWorker: boolean;
  stallSeconds: number;
  corpus: string;
  outDir: string;
}

export const usage = `Usage: npm run bench:ingestion -- [options]

Ingestion benchmark: raw USE-Lite throughput, full SciFact ingest through the public API, a 1% refresh,
and tenant fairness. Needs a build (npm run build), PostgreSQL with pgvector and Redis. Resets and uses
the database QUARRY_DB_NAME (default quarry_bench).

  --limit N              ingest only the first N abstracts (default: all 5,183)
  --fairness-backlog N   tenant A's queued documents in the fairness test (default 2000)
  --fairness-docs N      tenant B's documents (default 5)
  --upload-batch N       files per multipart request (default 100)
  --changed-pct P        share of documents changed in the refresh (default 1)
  --format md|txt        document format (default md: "# title" then the abstract)
  --max-tokens N         collection chunking maxTokens (default 400, the platform default)
  --overlap-tokens N     collection chunking overlapTokens (default 60, the platform default)
  --concurrency N        worker INGEST_CONCURRENCY (default 4)
  --tenant-concurrency N INGEST_TENANT_CONCURRENCY (default 4)
  --embed-batch N        EMBED_BATCH_SIZE and EMBEDDING_USE_BATCH_SIZE (default 32)
  --embed-wait-ms N      EMBED_BATCH_WAIT_MS (default 15)
  --parse-threads N      PARSE_THREADS (default 1)
  --db-pool-max N        DB_POOL_MAX of API and worker (default 10)
  --log-level L          LOG_LEVEL of API and worker (default info, as deployed)
  --keep-db              do not drop and recreate the benchmark database first
  --keep-work            keep the temporary directory (storage, process logs)
  --profile-worker       write a V8 CPU profile of the worker into the kept work directory
                         (diagnostic: profiling slows the worker, so such a run's numbers are not results)
  --stall-seconds N      give up when no document finishes for N seconds (default 600)
  --corpus FILE          corpus.jsonl(.gz) (default ../shared/data/scifact/corpus.jsonl.gz)
  --out DIR              results directory (default bench/results)
`;

function integer(name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return parsed;
}

export function parseOptions(argv: string[], repoRoot: string): IngestionBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      limit: { type: 'string' },
      'fairness-backlog': { type: 'string' },
      'fairness-docs': { type: 'string' },
      'upload-batch': { type: 'string' },
      'changed-pct': { type: 'string' },
      format: { type: 'string' },
      'max-tokens': { type: 'string' },
      'overlap-tokens': { type: 'string' },
      concurrency: { type: 'string' },
      'tenant-concurrency': { type: 'string' },
      'embed-batch': { type: 'string' },
      'embed-wait-ms': { type: 'string' },
      'parse-threads': { type: 'string' },
      'db-pool-max': { type: 'string' },
      'log-level': { type: 'string' },
      'keep-db': { type: 'boolean' },
      'keep-work': { type: 'boolean' },
      'profile-worker': { type: 'boolean' },
      'stall-seconds': { type: 'string' },
      corpus: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const format = values.format ?? 'md';
  if (format !== 'md' && format !== 'txt') throw new Error(`--format must be md or txt, got ${format}`);
  const changedPct = values['changed-pct'] === undefined ? 1 : Number(values['changed-pct']);
  if (!(changedPct > 0 && changedPct <= 100)) throw new Error(`--changed-pct must be in (0, 100], got ${values['changed-pct']}`);
  const logLevel = values['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
  return {
    limit: values.limit === undefined ? undefined : integer('limit', values.limit, 0, 1),
    fairnessBacklog: integer('fairness-backlog', values['fairness-backlog'], FULL_FAIRNESS_BACKLOG, 1),
    fairnessDocs: integer('fairness-docs', values['fairness-docs'], FULL_FAIRNESS_DOCS, 1, 100),
    uploadBatch: integer('upload-batch', values['upload-batch'], 100, 1, 1000),
    changedPct,
    format,
    maxTokens: integer('max-tokens', values['max-tokens'], 400, 64, 8192),
    overlapTokens: integer('overlap-tokens', values['overlap-tokens'], 60, 0, 1024),
    ingestConcurrency: integer('concurrency', values.concurrency, 4, 1, 64),
    tenantConcurrency: integer('tenant-concurrency', values['tenant-concurrency'], 4, 1, 256),
    embedBatch: integer('embed-batch', values['embed-batch'], 32, 1, 512),
    embedWaitMs: integer('embed-wait-ms', values['embed-wait-ms'], 15, 0, 1000),
    parseThreads: integer('parse-threads', values['parse-threads'], 1, 1, 64),
    dbPoolMax: integer('db-pool-max', values['db-pool-max'], 10, 1, 200),
    logLevel,
    keepDb: values['keep-db'] ?? false,
    keepWork: (values['keep-work'] ?? false) || (values['profile-worker'] ?? false),
    profileWorker: values['profile-worker'] ?? false,
    stallSeconds: integer('stall-seconds', values['stall-seconds'], 600, 10),
    corpus: path.resolve(values.corpus ?? path.join(repoRoot, '../shared/data/scifact/corpus.jsonl.gz')),
    outDir: path.resolve(values.out ?? path.join(repoRoot, 'bench/results')),
  };
}
