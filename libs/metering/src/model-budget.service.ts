import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, ErrorCode, type BaseConfig, type TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { BudgetAlerts } from './budget-alerts';
import { BudgetSettingsStore, type BudgetPolicy } from './budget-settings';
import { MeteringMetrics } from './metering-metrics';
import { ModelRateLimits } from './model-rate-limits';
import { costUsd, loadPriceTable, priceOf, type ModelPrice, type PriceTable } from './model-prices';
import { periodEnd } from './periods';
import { addToCounters, readCounters, type UsageTotals } from './usage-counters';
import { UsageWriter, type ModelCaller } from './usage-writer';

export const BudgetErrorCode = {
  BudgetExceeded: ErrorCode.BudgetExceeded,
  RateLimited: ErrorCode.RateLimited,
  GenerationDisabled: ErrorCode.GenerationDisabled,
} as const;

/** What to do before a model call. On 'fallback', use `model` when given, else the caller's cheaper model. */
export type ModelCallDecision =
  | { action: 'allow' }
  | { action: 'fallback'; reason: string; model?: string }
  | { action: 'block'; code: string; status: 402 | 403 | 429; message: string; retryAfterMs?: number };

export interface ModelCallRecord {
  /** The model that answered, as named in the price table. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Why the call was made, e.g. 'chat.answer', 'chat.rewrite', 'eval'. */
  purpose: string;
  messageId?: string;
}

/**
 * Cost controls around every model call: `authorize` before (kill switch, budgets for the period, rate
 * limits shared through Redis) and `recordModelCall` after (usage event with cost, running totals, alerts
 * at 50/80/100%). Budgets are checked against totals kept in Postgres, so every instance sees the same.
 */
@Injectable()
export class ModelBudgetService {
  private readonly logger = new Logger(ModelBudgetService.name);
  private readonly prices: PriceTable;
  private readonly unpricedModels = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly settings: BudgetSettingsStore,
    private readonly usage: UsageWriter,
    private readonly alerts: BudgetAlerts,
    private readonly rateLimits: ModelRateLimits,
    private readonly metrics: MeteringMetrics,
    @Inject(CONFIG) config: BaseConfig,
  ) {
    this.prices = loadPriceTable(config.MODEL_PRICES_FILE);
  }

  async authorize(scope: TenantScope, who: ModelCaller, model: string, estimatedTokens: number): Promise<ModelCallDecision> {
    const decision = await this.decide(scope, who, model, Math.max(0, Math.ceil(estimatedTokens)));
    this.metrics.decisions.inc({ tenant: scope.tenantId, action: decision.action, code: decision.action === 'block' ? decision.code : '' });
    return decision;
  }

  async recordModelCall(scope: TenantScope, who: ModelCaller, call: ModelCallRecord): Promise<{ costUsd: number }> {
    const inputTokens = wholeTokens(call.inputTokens);
    const outputTokens = wholeTokens(call.outputTokens);
    const policy = await this.settings.get(scope);
    const price = this.priceFor(call.model, policy);
    const cost = costUsd(price, inputTokens, outputTokens);
    const now = new Date();
    const totals = await this.db.tenant(scope, async (tx) => {
      await this.usage.record(scope, {
        kind: 'model.call',
        model: call.model,
        units: inputTokens + outputTokens,
        unit: 'tokens',
        costUsd: cost,
        caller: who,
        metadata: {
          inputTokens,
          outputTokens,
          purpose: call.purpose,
          priced: price !== undefined,
          ...(call.messageId ? { messageId: call.messageId } : {}),
        },
      });
      const rows = await addToCounters(tx, scope, who.userId, inputTokens + outputTokens, cost, now);
      await this.alerts.record(tx, scope, policy, rows);
      return rows;
    });
    await this.rateLimits.countTokens(scope, who.userId, inputTokens + outputTokens);

    this.metrics.costUsd.inc({ tenant: scope.tenantId, model: call.model }, cost);
    this.metrics.tokens.inc({ tenant: scope.tenantId, model: call.model, direction: 'input' }, inputTokens);
    this.metrics.tokens.inc({ tenant: scope.tenantId, model: call.model, direction: 'output' }, outputTokens);
    const tenantTotals = totals.find((row) => row.subjectType === 'tenant' && row.period === policy.period);
    if (tenantTotals) this.setUtilisation(scope, policy, tenantTotals);
    this.logger.log({ msg: 'model call recorded', tenantId: scope.tenantId, model: call.model, inputTokens, outputTokens, costUsd: cost, purpose: call.purpose });
    return { costUsd: cost };
  }

  /** The price used for a model under a tenant's overrides, or undefined when the model is not in any table. */
  priceFor(model: string, policy: BudgetPolicy): ModelPrice | undefined {
    const price = priceOf(model, [policy.priceOverrides, this.prices]);
    if (!price && !this.unpricedModels.has(model)) {
      this.unpricedModels.add(model);
      this.logger.warn({ msg: 'model has no price; its calls are recorded at zero cost', model });
    }
    return price;
  }

  private async decide(scope: TenantScope, who: ModelCaller, model: string, estimatedTokens: number): Promise<ModelCallDecision> {
    const policy = await this.settings.get(scope);
    if (!policy.generationEnabled) {
      return block(BudgetErrorCode.GenerationDisabled, 403, 'Generation is turned off for this tenant by an administrator');
    }
    const now = new Date();
    const usage = await this.db.tenant(scope, (tx) => readCounters(tx, scope, who.userId, policy.period, now));
    this.setUtilisation(scope, policy, usage.tenant);
    const estimatedCost = costUsd(this.priceFor(model, policy), estimatedTokens, 0);
    const exceeded = exceededBudget(policy, usage, estimatedTokens, estimatedCost);

    let decision: ModelCallDecision = { action: 'allow' };
    if (exceeded) {
      const usesFallback = policy.onExceeded === 'fallback';
      if (!usesFallback) {
        return block(BudgetErrorCode.BudgetExceeded, 402, `The ${exceeded} for this ${policy.period} is used up`, periodEnd(policy.period, now).getTime() - now.getTime());
      }
      // The fallback model itself is what the tenant chose to keep answering with.
      if (policy.fallbackModel === null || policy.fallbackModel !== model) {
        decision = { action: 'fallback', reason: `${BudgetErrorCode.BudgetExceeded}: the ${exceeded} is used up`, ...(policy.fallbackModel ? { model: policy.fallbackModel } : {}) };
      }
    }
    const hit = await this.rateLimits.check(scope, who.userId, policy, estimatedTokens);
    if (hit) {
      return block(BudgetErrorCode.RateLimited, 429, `Too many model ${hit.limit.endsWith('tokens') ? 'tokens' : 'requests'} per minute (${hit.limit.replace('_', ' ')} limit)`, hit.retryAfterMs);
    }
    return decision;
  }

  private setUtilisation(scope: TenantScope, policy: BudgetPolicy, totals: UsageTotals): void {
    if (policy.tenantTokenBudget) this.metrics.budgetUtilisation.set({ tenant: scope.tenantId, metric: 'tokens' }, totals.tokens / policy.tenantTokenBudget);
    if (policy.tenantCostBudgetUsd) this.metrics.budgetUtilisation.set({ tenant: scope.tenantId, metric: 'cost' }, totals.costUsd / policy.tenantCostBudgetUsd);
  }
}

/** Which budget a call of this size would go over, if any. */
function exceededBudget(
  policy: BudgetPolicy,
  usage: { tenant: UsageTotals; user: UsageTotals | undefined },
  estimatedTokens: number,
  estimatedCost: number,
): string | undefined {
  const over = (used: number, estimate: number, budget: number | null) => budget !== null && (used >= budget || used + estimate > budget);
  if (over(usage.tenant.tokens, estimatedTokens, policy.tenantTokenBudget)) return 'tenant token budget';
  if (over(usage.tenant.costUsd, estimatedCost, policy.tenantCostBudgetUsd)) return 'tenant cost budget';
  if (usage.user && over(usage.user.tokens, estimatedTokens, policy.userTokenBudget)) return 'user token budget';
  if (usage.user && over(usage.user.costUsd, estimatedCost, policy.userCostBudgetUsd)) return 'user cost budget';
  return undefined;
}

function block(code: string, status: 402 | 403 | 429, message: string, retryAfterMs?: number): ModelCallDecision {
  return { action: 'block', code, status, message, ...(retryAfterMs !== undefined ? { retryAfterMs: Math.max(1, retryAfterMs) } : {}) };
}

function wholeTokens(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`token counts must be non-negative numbers, got ${value}`);
  return Math.round(value);
}
