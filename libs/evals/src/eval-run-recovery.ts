import { Injectable, Logger } from '@nestjs/common';
import { tenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { EvalQueue } from './eval-queue';

/**
 * Redis keeps queues in memory: a restart, or a job removed by hand, would leave its run "queued" or
 * "running" forever. This finds such runs (older than `minAgeSeconds`, so a run being created is left
 * alone) and queues them again; the run then starts over.
 */
@Injectable()
export class EvalRunRecovery {
  private readonly logger = new Logger(EvalRunRecovery.name);

  constructor(
    private readonly db: Database,
    private readonly queue: EvalQueue,
  ) {}

  /** Every tenant, or only `tenantIds` when given. */
  async requeueOrphans(minAgeSeconds: number, tenantIds?: readonly string[]): Promise<{ requeued: number }> {
    const before = new Date(Date.now() - minAgeSeconds * 1000);
    let requeued = 0;
    for await (const tenantId of tenantIds ?? this.db.tenantIds()) {
      const scope = tenantScope(tenantId);
      const runs = await this.db.tenant(scope, (tx) =>
        tx.evalRun.findMany({
          where: { tenantId: scope.tenantId, status: { in: ['queued', 'running'] }, createdAt: { lt: before } },
          select: { id: true },
        }),
      );
      for (const run of runs) {
        if (await this.queue.hasJob(tenantId, run.id)) continue;
        await this.queue.enqueue(tenantId, run.id);
        requeued += 1;
        this.logger.warn({ tenantId, runId: run.id }, 'Re-queued an eval run whose job was lost');
      }
    }
    return { requeued };
  }
}
