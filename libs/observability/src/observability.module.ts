import { Module } from '@nestjs/common';
import { HealthRegistry } from './health';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { Metrics } from './metrics';
import { OpsController } from './ops.controller';

@Module({
  controllers: [OpsController],
  providers: [Metrics, HealthRegistry, HttpMetricsMiddleware],
  exports: [Metrics, HealthRegistry, HttpMetricsMiddleware],
})
export class ObservabilityModule {}
