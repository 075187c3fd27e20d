import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { envelope, purgeSessionsJob, Queues, recoverEvalRunsJob, refreshSourcesJob } from '@quarry/jobs';
import { Queue } from 'bullmq';

/** Repeatable jobs. upsertJobScheduler is idempotent, so every worker may declare them at start. */
@Injectable()
export class Schedules implements OnApplicationBootstrap {
  constructor(@InjectQueue(Queues.maintenance) private readonly maintenance: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.maintenance.upsertJobScheduler(
      'sessions.purge.hourly',
      { every: 3_600_000 },
      { name: purgeSessionsJob.name, data: envelope(purgeSessionsJob, { graceHours: 24 }), opts: purgeSessionsJob.options },
    );
    await this.maintenance.upsertJobScheduler(
      'sources.refresh.minutely',
      { every: 60_000 },
      { name: refreshSourcesJob.name, data: envelope(refreshSourcesJob, { limit: 500 }), opts: refreshSourcesJob.options },
    );
    await this.maintenance.upsertJobScheduler(
      'evals.recover.minutely',
      { every: 60_000 },
      { name: recoverEvalRunsJob.name, data: envelope(recoverEvalRunsJob, { minAgeSeconds: 120 }), opts: recoverEvalRunsJob.options },
    );
  }
}
