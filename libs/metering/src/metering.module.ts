import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { ObservabilityModule } from '@quarry/observability';
import { BudgetAlerts } from './budget-alerts';
import { BudgetSettingsStore } from './budget-settings';
import { MeteringMetrics } from './metering-metrics';
import { ModelBudgetService } from './model-budget.service';
import { ModelRateLimits } from './model-rate-limits';
import { UsageWriter } from './usage-writer';

@Module({
  imports: [AuditModule, ObservabilityModule],
  providers: [UsageWriter, BudgetSettingsStore, BudgetAlerts, ModelRateLimits, MeteringMetrics, ModelBudgetService],
  exports: [UsageWriter, BudgetSettingsStore, BudgetAlerts, ModelBudgetService],
})
export class MeteringModule {}
