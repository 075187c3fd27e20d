import { z } from 'zod';
import { defineJob } from './job-contract';

/** Eval runs get their own queue: a long run must never hold up ingestion or maintenance. */
export const evalsQueueName = 'evals';

/**
 * Runs one stored eval run (its dataset against its retrieval configuration). The dedupe id is the run:
 * asking twice while it is queued or running is a no-op. A run that is retried starts over (its partial
 * results are replaced), so the job is idempotent.
 */
export const evalRunJob = defineJob({
  queue: evalsQueueName,
  name: 'eval.run',
  version: 1,
  payload: z.object({ tenantId: z.uuid(), runId: z.uuid() }).strict(),
  jobId: (payload) => `eval-${payload.runId}`,
  options: {
    attempts: 2,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: true,
    removeOnFail: 100,
  },
});

/**
 * Finds eval runs that are queued or running but have no job (Redis lost it, or it was removed) and queues
 * them again. Runs on the maintenance queue, every minute, tenant by tenant.
 */
export const recoverEvalRunsJob = defineJob({
  queue: 'maintenance',
  name: 'evals.recover',
  version: 1,
  payload: z.object({ minAgeSeconds: z.number().int().min(0).max(86_400) }).strict(),
  options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
});
