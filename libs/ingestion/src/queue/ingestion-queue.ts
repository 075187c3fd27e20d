import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type BaseConfig, type TenantScope } from '@quarry/core';
import { Database, RedisClient } from '@quarry/db';
import { bullRootOptions, ingestDocumentJob, ingestionStages, ingestQueueName, JobProducer } from '@quarry/jobs';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IngestionConfig } from '../config';
import { FairScheduling } from './fair-scheduling';

export type IngestReason = 'upload' | 'retry' | 'reindex' | 'model_change' | 'refresh';
export type IngestStage = (typeof ingestionStages)[number];

const waitingStates = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export function earlierStage(a: IngestStage, b: IngestStage): IngestStage {
  return ingestionStages.indexOf(a) <= ingestionStages.indexOf(b) ? a : b;
}

/**
 * Puts documents on the ingestion queue: the shared one, or the tenant's dedicated one, with a priority
 * that interleaves tenants fairly (see FairScheduling).
 *
 * One job per document at a time (its id is the document's). A request for a document that already has a
 * job is never dropped: a waiting job is widened to start from the earlier stage, and a running one gets
 * a re-run marker that the worker turns into a new job when the current one ends — so a settings change
 * made mid-run still reaches the document.
 */
@Injectable()
export class IngestionQueue implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();
  readonly fairness: FairScheduling;
  private readonly dedicated: ReadonlySet<string>;
  private readonly slugs = new Map<string, string>();
  private readonly redis: Redis;
  private readonly rerunKey: string;

  constructor(
    @Inject(CONFIG) private readonly config: BaseConfig & IngestionConfig,
    private readonly producer: JobProducer,
    private readonly db: Database,
    redis: RedisClient,
  ) {
    this.redis = redis.client;
    this.fairness = new FairScheduling(redis.client, config.REDIS_PREFIX);
    this.dedicated = new Set(config.INGEST_DEDICATED_TENANTS);
    this.rerunKey = `${config.REDIS_PREFIX}:ingest:rerun`;
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
    const queue = this.queueFor(await this.slugOf(scope));
    const payload = { tenantId: scope.tenantId, documentId, fromStage, reason };
    const existing = await queue.getJob(ingestDocumentJob.jobId!(payload));
    if (existing) {
      const state = await existing.getState();
      if (waitingStates.has(state)) {
        const current = (existing.data as { payload: { fromStage: IngestStage } }).payload.fromStage;
        if (earlierStage(fromStage, current) !== current) {
          await existing.updateData({ ...(existing.data as object), payload: { ...payload, fromStage: earlierStage(fromStage, current) } });
        }
        return;
      }
      if (state === 'active') {
        await this.markRerun(documentId, scope.tenantId, fromStage);
        return;
      }
      // Finished jobs are removed when they end; one still here is on its way out.
      await existing.remove().catch(() => undefined);
    }
    const priority = await this.fairness.admit(scope.tenantId, documentId);
    await this.producer.enqueue(queue, ingestDocumentJob, payload, {
      priority,
      attempts: this.config.INGEST_MAX_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.INGEST_BACKOFF_MS },
    });
  }

  /** Called by the worker when a document's job has ended: queues the re-run asked for meanwhile, if any. */
  async takeRerun(documentId: string): Promise<{ tenantId: string; fromStage: IngestStage } | null> {
    const raw = (await this.redis.eval(
      `local v = redis.call('HGET', KEYS[1], ARGV[1]); if v then redis.call('HDEL', KEYS[1], ARGV[1]) end; return v`,
      1,
      this.rerunKey,
      documentId,
    )) as string | null;
    if (!raw) return null;
    const [tenantId = '', fromStage = 'parse'] = raw.split('|');
    return { tenantId, fromStage: fromStage as IngestStage };
  }

  private async markRerun(documentId: string, tenantId: string, fromStage: IngestStage): Promise<void> {
    const previous = await this.redis.hget(this.rerunKey, documentId);
    const stage = previous ? earlierStage(fromStage, previous.split('|')[1] as IngestStage) : fromStage;
    await this.redis.hset(this.rerunKey, documentId, `${tenantId}|${stage}`);
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
