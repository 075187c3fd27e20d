import { z } from 'zod';
import { defineJob } from './job-contract';

/** Queue names. One workload per queue, so each can get its own workers and concurrency. */
export const Queues = {
  maintenance: 'maintenance',
  /** Shared ingestion queue; tenants with dedicated workers get `ingest-<slug>` instead. */
  ingest: 'ingest',
  /** Batch chat questions (POST /v1/jobs). */
  chat: 'chat',
} as const;

export function ingestQueueName(dedicatedTenantSlug?: string): string {
  return dedicatedTenantSlug ? `${Queues.ingest}-${dedicatedTenantSlug}` : Queues.ingest;
}

export const ingestionStages = ['fetch', 'parse', 'chunk', 'embed', 'index'] as const;

/**
 * Runs a document through the pipeline from `fromStage` on. The dedupe id is the document: while one run
 * is queued or active, asking again is a no-op (runs are removed from Redis when they end).
 */
export const ingestDocumentJob = defineJob({
  queue: Queues.ingest,
  name: 'document.ingest',
  version: 1,
  payload: z
    .object({
      tenantId: z.uuid(),
      documentId: z.uuid(),
      fromStage: z.enum(ingestionStages),
      reason: z.enum(['upload', 'retry', 'reindex', 'model_change', 'refresh']),
    })
    .strict(),
  jobId: (payload) => `doc-${payload.documentId}`,
  options: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: true,
    removeOnFail: true,
  },
});

/** Checks URL sources whose refresh interval has passed and queues the ones that changed. */
export const refreshSourcesJob = defineJob({
  queue: Queues.maintenance,
  name: 'sources.refresh',
  version: 1,
  payload: z.object({ limit: z.number().int().min(1).max(1000) }).strict(),
  options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
});

/** Deletes sessions that expired or were revoked more than a day ago, tenant by tenant. */
export const purgeSessionsJob = defineJob({
  queue: Queues.maintenance,
  name: 'sessions.purge',
  version: 1,
  payload: z.object({ graceHours: z.number().int().min(0).max(720) }).strict(),
  options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 500 },
});

/** Answers a batch of chat questions, resuming after the last stored answer, then delivers the webhook. */
export const chatBatchJob = defineJob({
  queue: Queues.chat,
  name: 'chat.batch',
  version: 1,
  payload: z.object({ tenantId: z.uuid(), jobId: z.uuid() }).strict(),
  jobId: (payload) => `chat-batch-${payload.jobId}`,
  options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: true, removeOnFail: 100 },
});
