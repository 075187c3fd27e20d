import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { tenantScope } from '@quarry/core';
import { EvalRunAbandoned, EvalRunner } from '@quarry/evals';
import { evalRunJob, evalsQueueName, JobContractError, openEnvelope } from '@quarry/jobs';
import { Metrics } from '@quarry/observability';
import { UnrecoverableError, type Job } from 'bullmq';
import { Counter, Histogram } from 'prom-client';

/**
 * Consumes eval runs one at a time (latency per query is part of what a run measures). A run that
 * fails for good — retries exhausted, its dataset or user gone, or stalled too often after a crash — is
 * recorded as failed with the reason, so no run sits "running" forever.
 */
@Processor(evalsQueueName, { concurrency: 1 })
export class EvalRunProcessor extends WorkerHost {
  private readonly logger = new Logger(EvalRunProcessor.name);
  private readonly runs: Counter<'outcome'>;
  private readonly seconds: Histogram;

  constructor(
    private readonly runner: EvalRunner,
    metrics: Metrics,
  ) {
    super();
    this.runs = new Counter({
      name: 'quarry_eval_runs_total',
      help: 'Eval runs that ended, by outcome (succeeded, failed)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.seconds = new Histogram({
      name: 'quarry_eval_run_seconds',
      help: 'Time to execute one eval run',
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers: [metrics.registry],
    });
  }

  async process(job: Job): Promise<unknown> {
    try {
      const payload = openEnvelope(evalRunJob, job.data);
      const stopTimer = this.seconds.startTimer();
      const metrics = await this.runner.execute(tenantScope(payload.tenantId), payload.runId);
      stopTimer();
      this.runs.inc({ outcome: 'succeeded' });
      return metrics ? { ndcgAt10: metrics.ndcgAt10 } : null;
    } catch (error) {
      if (error instanceof JobContractError || error instanceof EvalRunAbandoned) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn({ jobId: job.id, attempt: job.attemptsMade, final, err: error }, 'Eval run attempt failed');
    if (!final) return;
    this.runs.inc({ outcome: 'failed' });
    try {
      const payload = openEnvelope(evalRunJob, job.data);
      await this.runner.markFailed(tenantScope(payload.tenantId), payload.runId, error.message);
    } catch (markError) {
      this.logger.error({ jobId: job.id, err: markError }, 'Could not record the eval run as failed');
    }
  }
}
