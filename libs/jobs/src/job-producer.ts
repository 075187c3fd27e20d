import { Injectable } from '@nestjs/common';
import { Queue, type JobsOptions } from 'bullmq';
import type { z } from 'zod';
import { envelope, type JobContract } from './job-contract';

/** Adds validated, versioned jobs to their queue (or a dedicated `<queue>-<tenant>` twin of it). */
@Injectable()
export class JobProducer {
  async enqueue<Schema extends z.ZodType>(
    queue: Queue,
    contract: JobContract<Schema>,
    payload: z.infer<Schema>,
    extra: Pick<JobsOptions, 'priority' | 'delay' | 'attempts' | 'backoff'> = {},
  ): Promise<string> {
    if (queue.name !== contract.queue && !queue.name.startsWith(`${contract.queue}-`)) {
      throw new Error(`Job ${contract.name} belongs on queue ${contract.queue}, not ${queue.name}`);
    }
    const data = envelope(contract, payload);
    const jobId = contract.jobId?.(data.payload);
    const job = await queue.add(contract.name, data, { ...contract.options, ...extra, ...(jobId ? { jobId } : {}) });
    return job.id ?? jobId ?? '';
  }
}
