import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '@quarry/core';
import { Metrics } from '@quarry/observability';
import { Logger } from 'nestjs-pino';
import { workerEnvSchema, type WorkerEnv } from './config';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  let config: WorkerEnv;
  try {
    config = loadConfig(workerEnvSchema);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Quarry worker refused to start. ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await NestFactory.create(WorkerModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.get(Metrics).setServiceLabel('worker');
  app.enableShutdownHooks();
  await app.listen(config.WORKER_PORT, config.WORKER_HOST);
  app.get(Logger).log(`Quarry worker running; health and metrics on ${config.WORKER_HOST}:${config.WORKER_PORT}`);
}

main().catch((error: unknown) => {
  console.error('Quarry worker failed to start:', error);
  process.exit(1);
});
