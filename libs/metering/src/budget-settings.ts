import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma, type BudgetSettingsModel } from '@quarry/db';
import { z } from 'zod';
import { normalizeKeys, priceTableSchema, type PriceTable } from './model-prices';
import type { BudgetPeriod } from './periods';

export type ExceededAction = 'block' | 'fallback';

/** A tenant's cost controls. Null means "no limit". */
export interface BudgetPolicy {
  generationEnabled: boolean;
  period: BudgetPeriod;
  tenantTokenBudget: number | null;
  tenantCostBudgetUsd: number | null;
  userTokenBudget: number | null;
  userCostBudgetUsd: number | null;
  onExceeded: ExceededAction;
  /** The cheaper model to use at 100% when onExceeded is 'fallback'; null leaves the choice to the caller. */
  fallbackModel: string | null;
  tenantRequestsPerMinute: number | null;
  tenantTokensPerMinute: number | null;
  userRequestsPerMinute: number | null;
  userTokensPerMinute: number | null;
  priceOverrides: PriceTable;
  updatedAt: string | null;
}

const tokens = z.number().int().min(0).max(1e15).nullable();
const dollars = z.number().finite().min(0).max(1e9).nullable();
const perMinute = z.number().int().min(1).max(1e9).nullable();

/** A partial update: fields left out keep their value, null clears a limit. */
export const budgetPolicyPatchSchema = z
  .object({
    generationEnabled: z.boolean(),
    period: z.enum(['day', 'month']),
    tenantTokenBudget: tokens,
    tenantCostBudgetUsd: dollars,
    userTokenBudget: tokens,
    userCostBudgetUsd: dollars,
    onExceeded: z.enum(['block', 'fallback']),
    fallbackModel: z.string().trim().min(1).max(200).nullable(),
    tenantRequestsPerMinute: perMinute,
    tenantTokensPerMinute: perMinute,
    userRequestsPerMinute: perMinute,
    userTokensPerMinute: perMinute,
    priceOverrides: priceTableSchema.refine((table) => Object.keys(table).length <= 200, 'at most 200 models'),
  })
  .partial()
  .strict();

export type BudgetPolicyPatch = z.infer<typeof budgetPolicyPatchSchema>;

export const defaultBudgetPolicy: BudgetPolicy = {
  generationEnabled: true,
  period: 'month',
  tenantTokenBudget: null,
  tenantCostBudgetUsd: null,
  userTokenBudget: null,
  userCostBudgetUsd: null,
  onExceeded: 'block',
  fallbackModel: null,
  tenantRequestsPerMinute: null,
  tenantTokensPerMinute: null,
  userRequestsPerMinute: null,
  userTokensPerMinute: null,
  priceOverrides: {},
  updatedAt: null,
};

/** Reads and writes `budget_settings`; a tenant without a row has no limits. */
@Injectable()
export class BudgetSettingsStore {
  constructor(private readonly db: Database) {}

  get(scope: TenantScope): Promise<BudgetPolicy> {
    return this.db.tenant(scope, async (tx) => {
      const row = await tx.budgetSettings.findUnique({ where: { tenantId: scope.tenantId } });
      return row ? toPolicy(row) : defaultBudgetPolicy;
    });
  }

  update(scope: TenantScope, patch: BudgetPolicyPatch): Promise<BudgetPolicy> {
    const data = toColumns(patch);
    return this.db.tenant(scope, async (tx) => {
      const row = await tx.budgetSettings.upsert({
        where: { tenantId: scope.tenantId },
        create: { tenantId: scope.tenantId, ...data },
        update: data,
      });
      return toPolicy(row);
    });
  }
}

/** Columns to write: decimals and bigints converted, price keys normalised; absent fields stay absent. */
function toColumns(patch: BudgetPolicyPatch): Omit<Prisma.BudgetSettingsUncheckedCreateInput, 'tenantId'> {
  const { tenantTokenBudget, userTokenBudget, tenantCostBudgetUsd, userCostBudgetUsd, priceOverrides, ...plain } = patch;
  const bigint = (value: number | null) => (value === null ? null : BigInt(value));
  const decimal = (value: number | null) => (value === null ? null : new Prisma.Decimal(value));
  return {
    ...plain,
    ...(tenantTokenBudget !== undefined ? { tenantTokenBudget: bigint(tenantTokenBudget) } : {}),
    ...(userTokenBudget !== undefined ? { userTokenBudget: bigint(userTokenBudget) } : {}),
    ...(tenantCostBudgetUsd !== undefined ? { tenantCostBudgetUsd: decimal(tenantCostBudgetUsd) } : {}),
    ...(userCostBudgetUsd !== undefined ? { userCostBudgetUsd: decimal(userCostBudgetUsd) } : {}),
    ...(priceOverrides !== undefined ? { priceOverrides: normalizeKeys(priceOverrides) } : {}),
  };
}

function toPolicy(row: BudgetSettingsModel): BudgetPolicy {
  return {
    generationEnabled: row.generationEnabled,
    period: row.period === 'day' ? 'day' : 'month',
    tenantTokenBudget: row.tenantTokenBudget === null ? null : Number(row.tenantTokenBudget),
    tenantCostBudgetUsd: row.tenantCostBudgetUsd === null ? null : row.tenantCostBudgetUsd.toNumber(),
    userTokenBudget: row.userTokenBudget === null ? null : Number(row.userTokenBudget),
    userCostBudgetUsd: row.userCostBudgetUsd === null ? null : row.userCostBudgetUsd.toNumber(),
    onExceeded: row.onExceeded === 'fallback' ? 'fallback' : 'block',
    fallbackModel: row.fallbackModel,
    tenantRequestsPerMinute: row.tenantRequestsPerMinute,
    tenantTokensPerMinute: row.tenantTokensPerMinute,
    userRequestsPerMinute: row.userRequestsPerMinute,
    userTokensPerMinute: row.userTokensPerMinute,
    priceOverrides: priceTableSchema.safeParse(row.priceOverrides).data ?? {},
    updatedAt: row.updatedAt.toISOString(),
  };
}
