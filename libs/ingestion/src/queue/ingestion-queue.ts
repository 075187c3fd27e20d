import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type BaseConfig, type TenantScope } from '@quarry/core';
import { Database, RedisClient } from '@quarry/db';
import { bullRootOptions, ingestDocumentJob, ingestQueueName, JobProducer } from '@quarry/jobs';
import { Queue } from 'bullmq';
import type { IngestionConfig } from '../config';
import { FairScheduling } from './fair-scheduling';

export type IngestReason = 'upload' | 'retry' | 'reindex' | 'model_change' | 'refresh';
export type IngestStage = 'fetch' | 'parse' | 'chunk' | 'embed' | 'index';

/**
 * Puts documents on the ingestion queue: the shared one, or the tenant's dedicated one, with a priority
 * that interleaves tenants fairly (see FairScheduling).
 */
@Injectable()
export class IngestionQueue implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();
  readonly fairness: FairScheduling;
  private readonly dedicated: ReadonlySet<string>;
  private readonly slugs = new Map<string, string>();

  constructor(
    @Inject(CONFIG) private readonly config: BaseConfig & IngestionConfig,
    private readonly producer: JobProducer,
    private readonly db: Database,
    redis: RedisClient,
  ) {
    this.fairness = new FairScheduling(redis.client, config.REDIS_PREFIX);
    this.dedicated = new Set(config.INGEST_DEDICATED_TENANTS);
  }

  queueFor(tenantSlug: string): Queue {
    const name = ingestQueueName(this.dedicated.has(tenantSlug) ? tenantSlug : undefined);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, bullRootOptions(this.config));
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue(scope: TenantScope, documentId: string, fromStage: IngestStage, reason: IngestReason): Promise<void> {
    const priority = await this.fairness.admit(scope.tenantId, documentId);
    await this.producer.enqueue(
      this.queueFor(await this.slugOf(scope)),
      ingestDocumentJob,
      { tenantId: scope.tenantId, documentId, fromStage, reason },
      {
        priority,
        attempts: this.config.INGEST_MAX_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.INGEST_BACKOFF_MS },
      },
    );
  }

  /** Only tenants named in INGEST_DEDICATED_TENANTS need their slug; slugs never change, so they are cached. */
  private async slugOf(scope: TenantScope): Promise<string> {
    if (this.dedicated.size === 0) return '';
    let slug = this.slugs.get(scope.tenantId);
    if (slug === undefined) {
      const tenant = await this.db.tenant(scope, (tx) => tx.tenant.findFirst({ where: { id: scope.tenantId }, select: { slug: true } }));
      slug = tenant?.slug ?? '';
      this.slugs.set(scope.tenantId, slug);
    }
    return slug;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
