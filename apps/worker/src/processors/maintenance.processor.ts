import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { EvalRunRecovery } from '@quarry/evals';
import { JobContractError, openEnvelope, purgeSessionsJob, Queues, recoverEvalRunsJob, refreshSourcesJob } from '@quarry/jobs';
import { SourceRefresher } from '../ingestion/source-refresher';
import { SessionPurger } from '@quarry/identity';
import { UnrecoverableError, type Job } from 'bullmq';

/** Housekeeping that spans tenants; each tenant is still visited under its own RLS scope. */
@Processor(Queues.maintenance)
export class MaintenanceProcessor extends WorkerHost {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    private readonly sessions: SessionPurger,
    private readonly sources: SourceRefresher,
    private readonly evalRuns: EvalRunRecovery,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    try {
      switch (job.name) {
        case purgeSessionsJob.name: {
          const payload = openEnvelope(purgeSessionsJob, job.data);
          const result = await this.sessions.purge(payload.graceHours);
          this.logger.log({ jobId: job.id, ...result }, 'Purged expired sessions');
          return result;
        }
        case refreshSourcesJob.name: {
          const payload = openEnvelope(refreshSourcesJob, job.data);
          return await this.sources.refreshDue(payload.limit);
        }
        case recoverEvalRunsJob.name: {
          const payload = openEnvelope(recoverEvalRunsJob, job.data);
          return await this.evalRuns.requeueOrphans(payload.minAgeSeconds);
        }
        default:
          throw new UnrecoverableError(`Unknown job ${job.name} on queue ${Queues.maintenance}`);
      }
    } catch (error) {
      // A payload that does not match its contract will not match on retry either.
      if (error instanceof JobContractError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }
}
