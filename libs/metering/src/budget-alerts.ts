import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { decodeCursor, toPage, type Page, type TenantScope } from '@quarry/core';
import { Database, Prisma, type TenantTx, type UsageAlertModel } from '@quarry/db';
import type { BudgetPolicy } from './budget-settings';
import type { CounterRow } from './usage-counters';

export const alertThresholds = [50, 80, 100] as const;

export interface UsageAlertView {
  id: string;
  subject: { type: string; id: string };
  metric: string;
  period: string;
  periodStart: string;
  threshold: number;
  used: number;
  budget: number;
  createdAt: string;
}

interface Crossing {
  subjectType: string;
  subjectId: string;
  metric: 'tokens' | 'cost';
  period: string;
  periodStart: Date;
  threshold: number;
  used: number;
  budget: number;
}

/**
 * Budget alerts at 50, 80 and 100%. Every threshold the new totals have reached is offered to the table,
 * whose unique key keeps one row per subject, metric, period and threshold: concurrent calls on several API
 * instances record an alert once, and only the call that inserted it writes the audit event.
 */
@Injectable()
export class BudgetAlerts {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  /** Inside the transaction that updated the counters. Returns the alerts that are new. */
  async record(tx: TenantTx, scope: TenantScope, policy: BudgetPolicy, totals: readonly CounterRow[]): Promise<UsageAlertView[]> {
    const crossings = totals.filter((row) => row.period === policy.period).flatMap((row) => reached(policy, row));
    if (crossings.length === 0) return [];
    const created = await tx.usageAlert.createManyAndReturn({
      data: crossings.map((c) => ({
        tenantId: scope.tenantId,
        subjectType: c.subjectType,
        subjectId: c.subjectId,
        metric: c.metric,
        period: c.period,
        periodStart: c.periodStart,
        threshold: c.threshold,
        used: new Prisma.Decimal(c.used),
        budget: new Prisma.Decimal(c.budget),
      })),
      skipDuplicates: true,
    });
    for (const alert of created) {
      await this.audit.record(scope, {
        action: 'budget.alert',
        outcome: 'success',
        target: { type: alert.subjectType, id: alert.subjectId },
        metadata: {
          metric: alert.metric,
          threshold: alert.threshold,
          period: alert.period,
          periodStart: alert.periodStart.toISOString(),
          used: alert.used.toString(),
          budget: alert.budget.toString(),
        },
        actor: { type: 'system', id: 'metering' },
      });
    }
    return created.map(toView);
  }

  list(scope: TenantScope, query: { limit: number; cursor?: string }): Promise<Page<UsageAlertView>> {
    const before = decodeCursor(query.cursor);
    return this.db.tenant(scope, async (tx) => {
      const rows = await tx.usageAlert.findMany({
        where: { tenantId: scope.tenantId, ...(before ? { id: { lt: before } } : {}) },
        orderBy: { id: 'desc' },
        take: query.limit + 1,
      });
      return toPage(rows, query.limit, toView);
    });
  }
}

function reached(policy: BudgetPolicy, row: CounterRow): Crossing[] {
  const budgets: { metric: 'tokens' | 'cost'; budget: number | null; used: number }[] =
    row.subjectType === 'tenant'
      ? [
          { metric: 'tokens', budget: policy.tenantTokenBudget, used: row.tokens },
          { metric: 'cost', budget: policy.tenantCostBudgetUsd, used: row.costUsd },
        ]
      : [
          { metric: 'tokens', budget: policy.userTokenBudget, used: row.tokens },
          { metric: 'cost', budget: policy.userCostBudgetUsd, used: row.costUsd },
        ];
  return budgets.flatMap(({ metric, budget, used }) =>
    budget === null || budget <= 0
      ? []
      : alertThresholds
          .filter((threshold) => used * 100 >= budget * threshold)
          .map((threshold) => ({
            subjectType: row.subjectType,
            subjectId: row.subjectId,
            metric,
            period: row.period,
            periodStart: row.periodStart,
            threshold,
            used,
            budget,
          })),
  );
}

function toView(row: UsageAlertModel): UsageAlertView {
  return {
    id: row.id,
    subject: { type: row.subjectType, id: row.subjectId },
    metric: row.metric,
    period: row.period,
    periodStart: row.periodStart.toISOString(),
    threshold: row.threshold,
    used: row.used.toNumber(),
    budget: row.budget.toNumber(),
    createdAt: row.createdAt.toISOString(),
  };
}
