export * from './health';
export * from './http-metrics.middleware';
export * from './metrics';
export * from './observability.module';
export * from './ops.controller';
