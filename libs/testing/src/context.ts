import { Module, type DynamicModule, type INestApplicationContext, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CONFIG, type ApiConfig } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { ClsModule } from 'nestjs-cls';
import { testConfig } from './env';

/** A Nest application context wired like the API (config, CLS, Postgres, Redis) plus the modules under test. */
export async function createTestContext(
  imports: NonNullable<ModuleMetadata['imports']>,
  config: ApiConfig = testConfig(),
  providers: NonNullable<ModuleMetadata['providers']> = [],
): Promise<INestApplicationContext> {
  const configModule: DynamicModule = {
    module: TestConfigModule,
    global: true,
    providers: [{ provide: CONFIG, useValue: config }],
    exports: [CONFIG],
  };
  @Module({ imports: [configModule, ClsModule.forRoot({ global: true }), DbModule, ...imports], providers })
  class TestRootModule {}
  return NestFactory.createApplicationContext(TestRootModule, { logger: ['error'] });
}

@Module({})
class TestConfigModule {}
