import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type BaseConfig } from '@quarry/core';
import { bullRootOptions, evalRunJob, evalsQueueName, JobProducer } from '@quarry/jobs';
import { Queue } from 'bullmq';

/** Puts eval runs on their queue (the API side; the worker consumes it). */
@Injectable()
export class EvalQueue implements OnModuleDestroy {
  private queue: Queue | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: BaseConfig,
    private readonly producer: JobProducer,
  ) {}

  async enqueue(tenantId: string, runId: string): Promise<void> {
    await this.producer.enqueue(this.open(), evalRunJob, { tenantId, runId });
  }

  /** Whether the run's job is still in the queue (waiting, active, delayed or failed and kept). */
  async hasJob(tenantId: string, runId: string): Promise<boolean> {
    const state = await this.open().getJobState(evalRunJob.jobId!({ tenantId, runId }));
    return state !== 'unknown';
  }

  private open(): Queue {
    this.queue ??= new Queue(evalsQueueName, bullRootOptions(this.config));
    return this.queue;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close();
  }
}
