import { z } from 'zod';

const slugList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((slug) => slug.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'tenant slugs, comma-separated')));

/** Ingestion settings shared by the API (intake, routing) and the worker (pipeline). */
export const ingestionConfigSchema = z.object({
  /** Tenants whose documents go to their own queue `ingest-<slug>`, served by workers started with WORKER_TENANTS. */
  INGEST_DEDICATED_TENANTS: slugList,
  /** At most this many of one tenant's documents are processed at once, across all workers. */
  INGEST_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** Attempts per job before a transient failure fails the document, with exponential backoff from INGEST_BACKOFF_MS. */
  INGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  INGEST_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),
  UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).max(10 * 1024 ** 3).default(100 * 1024 ** 2),
  UPLOAD_MAX_FILES: z.coerce.number().int().min(1).max(1000).default(100),
  UNSTRUCTURED_API_URL: z.string().url().optional(),
  UNSTRUCTURED_API_KEY: z.string().min(1).optional(),
  UNSTRUCTURED_STRATEGY: z.enum(['auto', 'fast', 'hi_res']).default('auto'),
  PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  PARSE_MAX_MEMORY_MB: z.coerce.number().int().min(32).max(16_384).default(512),
  PARSE_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  URL_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** URL sources on loopback/private addresses are refused unless allowed (server-side request forgery). */
  URL_ALLOW_PRIVATE_HOSTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

/** Worker-only: which queues this process serves and how hard. */
export const ingestionWorkerConfigSchema = ingestionConfigSchema.extend({
  /** Serve only these tenants' dedicated queues; empty serves the shared queue. */
  WORKER_TENANTS: slugList,
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** A job whose worker stops renewing its lock this long (killed, hung) is handed to another worker. */
  INGEST_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(512).default(32),
  EMBED_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1_000).default(15),
});

export type IngestionConfig = z.infer<typeof ingestionConfigSchema>;
export type IngestionWorkerConfig = z.infer<typeof ingestionWorkerConfigSchema>;
