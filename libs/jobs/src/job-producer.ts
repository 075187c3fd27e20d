import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { z } from 'zod';
import { envelope, type JobContract } from './job-contract';

/** Adds validated, versioned jobs to their queue. Queues are registered by the app through @nestjs/bullmq. */
@Injectable()
export class JobProducer {
  async enqueue<Schema extends z.ZodType>(
    queue: Queue,
    contract: JobContract<Schema>,
    payload: z.infer<Schema>,
  ): Promise<string> {
    if (queue.name !== contract.queue) {
      throw new Error(`Job ${contract.name} belongs on queue ${contract.queue}, not ${queue.name}`);
    }
    const data = envelope(contract, payload);
    const jobId = contract.jobId?.(data.payload);
    const job = await queue.add(contract.name, data, { ...contract.options, ...(jobId ? { jobId } : {}) });
    return job.id ?? jobId ?? '';
  }
}
