import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AuditModule } from '@quarry/audit';
import { CONFIG, pinoOptions, type RequestContextStore } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { AuthGuard, IdentityModule, type AuthenticatedRequest } from '@quarry/identity';
import { IngestionModule } from '@quarry/ingestion';
import { MeteringModule } from '@quarry/metering';
import { RetrievalModule } from '@quarry/retrieval';
import { ObservabilityModule } from '@quarry/observability';
import type { Request } from 'express';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { ZodValidationPipe } from 'nestjs-zod';
import { ApiKeysController } from './controllers/api-keys.controller';
import { AuditController } from './controllers/audit.controller';
import { CollectionsController } from './controllers/collections.controller';
import { DocumentsController } from './controllers/documents.controller';
import { AuthController } from './controllers/auth.controller';
import { GroupsController } from './controllers/groups.controller';
import { MeController } from './controllers/me.controller';
import { PlatformController } from './controllers/platform.controller';
import { SearchController } from './controllers/search.controller';
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
