import { Module } from '@nestjs/common';
import { HealthRegistry } from './health';
import { Metrics } from './metrics';
import { OpsController } from './ops.controller';

@Module({
  controllers: [OpsController],
  providers: [Metrics, HealthRegistry],
  exports: [Metrics, HealthRegistry],
})
export class ObservabilityModule {}
