import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AuditModule } from '@quarry/audit';
import { ChatModule } from '@quarry/chat';
import { CONFIG, pinoOptions, type RequestContextStore } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { EvalsModule } from '@quarry/evals';
import { GenerationModule } from '@quarry/generation';
import { AuthGuard, IdentityModule, type AuthenticatedRequest } from '@quarry/identity';
import { IngestionModule } from '@quarry/ingestion';
import { MeteringModule } from '@quarry/metering';
import { RetrievalModule } from '@quarry/retrieval';
import { ObservabilityModule } from '@quarry/observability';
import type { Request } from 'express';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { ZodValidationPipe } from 'nestjs-zod';
import { ChatWiringModule } from './chat/chat-wiring.module';
import { ApiKeysController } from './controllers/api-keys.controller';
import { ChatController } from './controllers/chat.controller';
import { ConversationsController, MessagesController } from './controllers/conversations.controller';
import { JobsController } from './controllers/jobs.controller';
import { AuditController } from './controllers/audit.controller';
import { CollectionsController } from './controllers/collections.controller';
import { DocumentsController } from './controllers/documents.controller';
import { EvalsController } from './controllers/evals.controller';
import { AuthController } from './controllers/auth.controller';
import { GroupsController } from './controllers/groups.controller';
import { MeController } from './controllers/me.controller';
import { ModelSettingsController } from './controllers/model-settings.controller';
import { PlatformController } from './controllers/platform.controller';
import { SearchController } from './controllers/search.controller';
import { BudgetSettingsController, UsageController } from './controllers/usage.controller';
import { UsersController } from './controllers/users.controller';
import { DocumentEventHub } from './events/document-event-hub';
import { EventStreamController } from './events/event-stream.controller';
import type { ApiEnv } from './config';
import { HealthChecks } from './health-checks';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { LogContextInterceptor } from './http/log-context.interceptor';
import { requestIdOf, type IdentifiedRequest } from './http/request-id.middleware';

@Module({})
export class AppModule {
  static forRoot(config: ApiEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        { module: ConfigHolder, global: true, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] },
        ClsModule.forRoot({
          global: true,
          middleware: {
            mount: true,
            generateId: true,
            idGenerator: (req: IdentifiedRequest) => requestIdOf(req),
            setup: (cls, req: Request) => {
              const store = cls as unknown as { set<K extends keyof RequestContextStore>(k: K, v: RequestContextStore[K]): void };
              store.set('requestId', requestIdOf(req));
              store.set('ip', req.ip);
              store.set('userAgent', req.get('user-agent'));
            },
          },
        }),
        LoggerModule.forRoot({
          pinoHttp: {
            ...pinoOptions(config.LOG_LEVEL, 'api'),
            genReqId: (req) => requestIdOf(req),
            // Called when the request starts (no principal yet) and again when it ends (after the guard).
            customProps: (req) => {
              const principal = (req as AuthenticatedRequest).principal;
              return principal
                ? { tenantId: principal.tenantId, actor: { type: principal.actor.type, id: principal.actor.id } }
                : { requestId: requestIdOf(req) };
            },
            autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
            },
          },
        }),
        DbModule,
        ObservabilityModule,
        AuditModule,
        MeteringModule,
        IdentityModule,
        IngestionModule,
        RetrievalModule,
        EvalsModule,
        ChatWiringModule,
        ChatModule,
        GenerationModule,
      ],
      controllers: [
        AuthController,
        MeController,
        UsersController,
        GroupsController,
        ApiKeysController,
        AuditController,
        PlatformController,
        CollectionsController,
        DocumentsController,
        SearchController,
        EvalsController,
        UsageController,
        BudgetSettingsController,
        ChatController,
        ConversationsController,
        MessagesController,
        JobsController,
        ModelSettingsController,
        EventStreamController,
      ],
      providers: [
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_INTERCEPTOR, useClass: LogContextInterceptor },
        HealthChecks,
        DocumentEventHub,
      ],
    };
  }
}

@Module({})
class ConfigHolder {}
