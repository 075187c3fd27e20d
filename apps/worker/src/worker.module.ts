import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { CONFIG, pinoOptions, type WorkerConfig } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { SessionPurger } from '@quarry/identity';
import { bullRootOptions, Queues } from '@quarry/jobs';
import { ObservabilityModule } from '@quarry/observability';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { MaintenanceProcessor } from './processors/maintenance.processor';
import { QueueMetrics } from './queue-metrics';
import { Schedules } from './schedules';

/** The worker: BullMQ consumers, plus HTTP for health and metrics only. */
@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        { module: ConfigHolder, global: true, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] },
        ClsModule.forRoot({ global: true }),
        LoggerModule.forRoot({ pinoHttp: { ...pinoOptions(config.LOG_LEVEL, 'worker'), autoLogging: false } }),
        DbModule,
        ObservabilityModule,
        BullModule.forRoot(bullRootOptions(config)),
        BullModule.registerQueue({ name: Queues.maintenance }),
      ],
      providers: [SessionPurger, MaintenanceProcessor, Schedules, QueueMetrics],
    };
  }
}

@Module({})
class ConfigHolder {}
