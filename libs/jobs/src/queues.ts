import { z } from 'zod';
import { defineJob } from './job-contract';

/** Queue names. One workload per queue, so each can get its own workers and concurrency. */
export const Queues = {
  maintenance: 'maintenance',
} as const;

/** Deletes sessions that expired or were revoked more than a day ago, tenant by tenant. */
export const purgeSessionsJob = defineJob({
  queue: Queues.maintenance,
  name: 'sessions.purge',
  version: 1,
  payload: z.object({ graceHours: z.number().int().min(0).max(720) }).strict(),
  options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 500 },
});
