import { Injectable, Logger } from '@nestjs/common';
import { tenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { EvalQueue } from './eval-queue';

const sweepLimit = 1_000;

/**
 * Redis keeps queues in memory: a restart, or a job removed by hand, would leave its run "queued" or
 * "running" forever. This finds such runs (older than `minAgeSeconds`, so a run being created is left
 * alone) through one SECURITY DEFINER function that returns ids only, and queues them again; the run
 * then starts over under its own tenant's scope.
 */
@Injectable()
export class EvalRunRecovery {
  private readonly logger = new Logger(EvalRunRecovery.name);

  constructor(
    private readonly db: Database,
    private readonly queue: EvalQueue,
  ) {}

  /** Every tenant's runs, or only those of `tenantIds` when given. */
  async requeueOrphans(minAgeSeconds: number, tenantIds?: readonly string[]): Promise<{ requeued: number }> {
    const before = new Date(Date.now() - minAgeSeconds * 1000);
    const candidates = await this.db.unscoped(
      (client) => client.$queryRaw<{ tenant_id: string; run_id: string }[]>`
        SELECT tenant_id, run_id FROM quarry_eval_unfinished_runs(${before}::timestamptz, ${sweepLimit}::int)`,
    );
    let requeued = 0;
    for (const { tenant_id: tenantId, run_id: runId } of candidates) {
      if (tenantIds && !tenantIds.includes(tenantId)) continue;
      if (await this.queue.hasJob(tenantId, runId)) continue;
      await this.queue.enqueue(tenantScope(tenantId).tenantId, runId);
      requeued += 1;
      this.logger.warn({ tenantId, runId }, 'Re-queued an eval run whose job was lost');
    }
    return { requeued };
  }
}
