import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, tenantScope, type WorkerConfig } from '@quarry/core';
import { IngestionPipeline, IngestionQueue, PermanentStageError, type IngestionWorkerConfig } from '@quarry/ingestion';
import { bullRootOptions, ingestDocumentJob, ingestQueueName, JobContractError, openEnvelope } from '@quarry/jobs';
import { Metrics } from '@quarry/observability';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Gauge, Histogram } from 'prom-client';

/**
 * BullMQ consumers of the ingestion queue(s): the shared queue, or only the dedicated queues of the
 * tenants in WORKER_TENANTS. A job whose worker dies (even by SIGKILL) stops renewing its lock and is
 * handed to another worker after INGEST_LOCK_MS; the pipeline's stages are idempotent, so the document
 * still ends indexed exactly once.
 */
@Injectable()
export class IngestionWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IngestionWorkers.name);
  private readonly workers: Worker[] = [];
  private readonly stageSeconds: Histogram<'outcome'>;

  constructor(
    @Inject(CONFIG) private readonly config: WorkerConfig & IngestionWorkerConfig,
    private readonly pipeline: IngestionPipeline,
    private readonly queue: IngestionQueue,
    metrics: Metrics,
  ) {
    this.stageSeconds = new Histogram({
      name: 'quarry_ingest_document_seconds',
      help: 'Time to run one ingestion job, by outcome',
      labelNames: ['outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [metrics.registry],
    });
    const fairness = queue.fairness;
    new Gauge({
      name: 'quarry_ingest_tenant_waiting',
      help: 'Documents waiting to start, per tenant',
      labelNames: ['tenant'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const row of await fairness.snapshot()) this.set({ tenant: row.tenantId }, row.waiting);
      },
    });
    new Gauge({
      name: 'quarry_ingest_tenant_lag_seconds',
      help: 'Age of the oldest waiting document, per tenant',
      labelNames: ['tenant'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const row of await fairness.snapshot()) this.set({ tenant: row.tenantId }, row.lagSeconds);
      },
    });
  }

  queueNames(): string[] {
    return this.config.WORKER_TENANTS.length > 0
      ? this.config.WORKER_TENANTS.map((slug) => ingestQueueName(slug))
      : [ingestQueueName()];
  }

  onApplicationBootstrap(): void {
    for (const name of this.queueNames()) {
      const worker = new Worker(name, (job, token) => this.process(job, token), {
        ...bullRootOptions(this.config),
        concurrency: this.config.INGEST_CONCURRENCY,
        lockDuration: this.config.INGEST_LOCK_MS,
        stalledInterval: Math.max(1_000, Math.floor(this.config.INGEST_LOCK_MS / 2)),
        maxStalledCount: 3,
      });
      worker.on('error', (error) => this.logger.error({ err: error, queue: name }, 'Ingestion worker error'));
      // 'completed' and 'failed' fire after the job has left the active set, so a new job can be added.
      const rerun = (job: Job | undefined) => {
        this.queueRerun(job).catch((error: unknown) => this.logger.error({ err: error }, 'Could not queue a re-run'));
      };
      // After a failure that will be retried, the job is waiting again and the re-run just widens it.
      worker.on('completed', rerun);
      worker.on('failed', rerun);
      this.workers.push(worker);
    }
    this.logger.log(`Ingestion workers on ${this.queueNames().join(', ')} (concurrency ${this.config.INGEST_CONCURRENCY})`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    let payload;
    try {
      payload = openEnvelope(ingestDocumentJob, job.data);
    } catch (error) {
      if (error instanceof JobContractError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const jobId = job.id ?? `doc-${payload.documentId}`;
    const fairness = this.queue.fairness;
    // A slot is abandoned after two lock periods without a heartbeat, but never sooner than 15 s: on a
    // loaded machine the heartbeat timer can lag seconds behind, and a slot taken away from a live job lets
    // the tenant run more jobs than its cap. A retried job keeps its own slot (same job id) meanwhile.
    const staleAfterMs = Math.max(this.config.INGEST_LOCK_MS * 2, 15_000);
    const started = await fairness.tryStart(payload.tenantId, jobId, this.config.INGEST_TENANT_CONCURRENCY, staleAfterMs);
    if (!started) {
      // The tenant already runs its share: step aside briefly so other tenants' jobs go first.
      await job.moveToDelayed(Date.now() + 250 + Math.floor(Math.random() * 250), token);
      throw new DelayedError();
    }
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const stop = this.stageSeconds.startTimer();
    // Keep the tenant's run slot fresh for the whole job, however long one stage takes.
    const keepSlot = setInterval(() => {
      fairness.heartbeat(payload.tenantId, jobId).catch(() => undefined);
    }, Math.max(500, Math.floor(this.config.INGEST_LOCK_MS / 2)));
    try {
      const outcome = await this.pipeline.run(payload, {
        finalAttempt,
        heartbeat: () => fairness.heartbeat(payload.tenantId, jobId),
      });
      await fairness.release(payload.tenantId, payload.documentId);
      stop({ outcome: outcome.status });
      return outcome;
    } catch (error) {
      stop({ outcome: 'error' });
      if (error instanceof PermanentStageError) {
        await fairness.release(payload.tenantId, payload.documentId);
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
      if (finalAttempt) await fairness.release(payload.tenantId, payload.documentId);
      throw error;
    } finally {
      clearInterval(keepSlot);
      await fairness.finish(payload.tenantId, jobId);
    }
  }

  /** A re-index asked for while this document's job ran is queued now that the job is gone. */
  private async queueRerun(job: Job | undefined): Promise<void> {
    const documentId = (job?.data as { payload?: { documentId?: string } } | undefined)?.payload?.documentId;
    if (!documentId) return;
    const rerun = await this.queue.takeRerun(documentId);
    if (rerun) await this.queue.enqueue(tenantScope(rerun.tenantId), documentId, rerun.fromStage, 'reindex');
  }
}
