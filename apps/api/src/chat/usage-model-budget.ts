import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import type { BudgetDecision, ModelBudget, ModelCaller, ModelCallPurpose } from '@quarry/chat';
import { UsageWriter } from '@quarry/metering';

/**
 * Records one usage event per model call with its tokens. Stands in for metering's ModelBudgetService
 * (budgets, prices, rate limits) until that is wired here; it allows every call and prices none.
 */
@Injectable()
export class UsageModelBudget implements ModelBudget {
  constructor(private readonly usage: UsageWriter) {}

  authorize(_scope: TenantScope, _caller: ModelCaller, _model: string, _estimatedTokens: number): Promise<BudgetDecision> {
    return Promise.resolve({ action: 'allow' });
  }

  async recordModelCall(
    scope: TenantScope,
    _caller: ModelCaller,
    call: { model: string; inputTokens: number; outputTokens: number; purpose: ModelCallPurpose; messageId?: string },
  ): Promise<{ costUsd: number }> {
    await this.usage.record(scope, {
      kind: `model.${call.purpose}`,
      model: call.model,
      units: call.inputTokens + call.outputTokens,
      unit: 'tokens',
      metadata: { inputTokens: call.inputTokens, outputTokens: call.outputTokens, ...(call.messageId ? { messageId: call.messageId } : {}) },
    });
    return { costUsd: 0 };
  }
}
