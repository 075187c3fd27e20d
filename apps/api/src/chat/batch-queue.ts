import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type BaseConfig, type TenantScope } from '@quarry/core';
import { bullRootOptions, chatBatchJob, JobProducer, Queues } from '@quarry/jobs';
import { Queue } from 'bullmq';

/** Puts batch chat jobs on the `chat` queue, served by the worker. */
@Injectable()
export class BatchQueue implements OnModuleDestroy {
  private readonly queue: Queue;

  constructor(
    @Inject(CONFIG) config: BaseConfig,
    private readonly producer: JobProducer,
  ) {
    this.queue = new Queue(Queues.chat, bullRootOptions(config));
  }

  async enqueue(scope: TenantScope, jobId: string): Promise<void> {
    await this.producer.enqueue(this.queue, chatBatchJob, { tenantId: scope.tenantId, jobId });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
