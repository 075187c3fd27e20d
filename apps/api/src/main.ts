import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, loadConfig } from '@quarry/core';
import cookieParser from 'cookie-parser';
import { httpMetricsMiddleware, Metrics } from '@quarry/observability';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { apiEnvSchema, type ApiEnv } from './config';
import { jsonBodyMiddleware } from './http/body-parser.middleware';
import { requestIdMiddleware } from './http/request-id.middleware';
import { mountOpenApi } from './openapi';

export async function createApp(config: ApiEnv): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.get(Metrics).setServiceLabel('api');
  app.set('trust proxy', config.TRUST_PROXY);
  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.use(httpMetricsMiddleware(app.get(Metrics)));
  app.use(jsonBodyMiddleware(config.BODY_LIMIT));
  app.use(cookieParser());
  mountOpenApi(app);
  if (config.CONSOLE_DIR) {
    app.useStaticAssets(config.CONSOLE_DIR, { index: 'index.html', maxAge: '1h' });
  }
  app.enableShutdownHooks();
  return app;
}

async function main(): Promise<void> {
  let config: ApiEnv;
  try {
    config = loadConfig(apiEnvSchema);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Quarry API refused to start. ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  app.get(Logger).log(`Quarry API listening on ${config.HOST}:${config.PORT} (${config.PUBLIC_URL})`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('Quarry API failed to start:', error);
    process.exit(1);
  });
}
