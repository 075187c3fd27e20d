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
    this.queue ??= new Queue(evalsQueueName, bullRootOptions(this.config));
    await this.producer.enqueue(this.queue, evalRunJob, { tenantId, runId });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close();
  }
}
