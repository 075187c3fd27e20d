import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { CHAT_MODELS, ChatModule, TenantChatModels } from '@quarry/chat';
import { CONFIG, pinoOptions } from '@quarry/core';
import { GenerationModule } from '@quarry/generation';
import { DbModule } from '@quarry/db';
import { EvalRunnerModule } from '@quarry/evals';
import { SessionPurger } from '@quarry/identity';
import { PipelineModule } from '@quarry/ingestion';
import { bullRootOptions, Queues } from '@quarry/jobs';
import { ObservabilityModule } from '@quarry/observability';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import type { WorkerEnv } from './config';
import { ChatJobsProcessor } from './chat/chat-jobs.processor';
import { HealthChecks } from './health-checks';
import { IngestionWorkers } from './ingestion/ingestion-workers';
import { SourceRefresher } from './ingestion/source-refresher';
import { EvalRunProcessor } from './processors/eval-run.processor';
import { MaintenanceProcessor } from './processors/maintenance.processor';
import { QueueMetrics } from './queue-metrics';
import { Schedules } from './schedules';

/** The worker: BullMQ consumers, plus HTTP for health and metrics only. */
@Module({})
export class WorkerModule {
  static forRoot(config: WorkerEnv): DynamicModule {
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
        BullModule.registerQueue({ name: Queues.chat }),
        PipelineModule,
        {
          module: ChatModelsHolder,
          global: true,
          imports: [GenerationModule],
          providers: [{ provide: CHAT_MODELS, useClass: TenantChatModels }],
          exports: [CHAT_MODELS],
        },
        ChatModule,
        EvalRunnerModule,
      ],
      providers: [ChatJobsProcessor, SessionPurger, MaintenanceProcessor, EvalRunProcessor, Schedules, QueueMetrics, IngestionWorkers, SourceRefresher, HealthChecks],
    };
  }
}

@Module({})
class ConfigHolder {}

@Module({})
class ChatModelsHolder {}
