import type { TenantScope } from '@quarry/core';
import { Prisma, type TenantTx } from '@quarry/db';
import { budgetPeriods, periodStart, type BudgetPeriod } from './periods';

export type SubjectType = 'tenant' | 'user';

export interface UsageTotals {
  tokens: number;
  costUsd: number;
}

export interface CounterRow extends UsageTotals {
  subjectType: SubjectType;
  subjectId: string;
  period: BudgetPeriod;
  periodStart: Date;
}

interface RawCounter {
  subject_type: SubjectType;
  subject_id: string;
  period: BudgetPeriod;
  period_start: Date;
  tokens: bigint;
  cost_usd: Prisma.Decimal;
}

/**
 * Adds one model call to the running totals of the tenant and the user, for the day and the month, in one
 * atomic upsert; returns the totals after it. Call inside the transaction that records the usage event.
 */
export async function addToCounters(
  tx: TenantTx,
  scope: TenantScope,
  userId: string | undefined,
  tokens: number,
  costUsd: number,
  at: Date,
): Promise<CounterRow[]> {
  const subjects: [SubjectType, string][] = [['tenant', scope.tenantId]];
  if (userId) subjects.push(['user', userId]);
  const values = subjects.flatMap(([type, id]) =>
    budgetPeriods.map(
      (period) =>
        Prisma.sql`(${scope.tenantId}::uuid, ${type}, ${id}, ${period}, ${periodStart(period, at)}::timestamptz, 1, ${BigInt(tokens)}, ${new Prisma.Decimal(costUsd)}, now())`,
    ),
  );
  const rows = await tx.$queryRaw<RawCounter[]>`
    INSERT INTO usage_counters AS c (tenant_id, subject_type, subject_id, period, period_start, requests, tokens, cost_usd, updated_at)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (tenant_id, subject_type, subject_id, period, period_start) DO UPDATE
      SET requests = c.requests + 1, tokens = c.tokens + excluded.tokens,
          cost_usd = c.cost_usd + excluded.cost_usd, updated_at = now()
    RETURNING subject_type, subject_id, period, period_start, tokens, cost_usd`;
  return rows.map(toCounterRow);
}

/** The current period's totals of the tenant and (when given) the user; zero when nothing was used yet. */
export async function readCounters(
  tx: TenantTx,
  scope: TenantScope,
  userId: string | undefined,
  period: BudgetPeriod,
  at: Date,
): Promise<{ tenant: UsageTotals; user: UsageTotals | undefined }> {
  const rows = await tx.usageCounter.findMany({
    where: {
      tenantId: scope.tenantId,
      period,
      periodStart: periodStart(period, at),
      OR: [{ subjectType: 'tenant', subjectId: scope.tenantId }, ...(userId ? [{ subjectType: 'user', subjectId: userId }] : [])],
    },
  });
  const find = (type: SubjectType): UsageTotals => {
    const row = rows.find((r) => r.subjectType === type);
    return row ? { tokens: Number(row.tokens), costUsd: row.costUsd.toNumber() } : { tokens: 0, costUsd: 0 };
  };
  return { tenant: find('tenant'), user: userId ? find('user') : undefined };
}

function toCounterRow(row: RawCounter): CounterRow {
  return {
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    period: row.period,
    periodStart: row.period_start,
    tokens: Number(row.tokens),
    costUsd: new Prisma.Decimal(row.cost_usd).toNumber(),
  };
}
