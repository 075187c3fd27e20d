import type { TenantScope } from '@quarry/core';
import type { ModelBudgetService } from '@quarry/metering';
import type { BudgetDecision, ModelBudget, ModelCaller, ModelCallPurpose } from './ports';

const purposes: Record<ModelCallPurpose, string> = { chat: 'chat.answer', rewrite: 'chat.rewrite', replay: 'chat.replay', batch: 'chat.batch' };

/** Chat's budget port on metering's ModelBudgetService (budgets, rate limits, prices, usage events). */
export class MeteredModelBudget implements ModelBudget {
  constructor(private readonly service: ModelBudgetService) {}

  authorize(scope: TenantScope, caller: ModelCaller, model: string, estimatedTokens: number): Promise<BudgetDecision> {
    return this.service.authorize(scope, who(caller), model, estimatedTokens);
  }

  recordModelCall(
    scope: TenantScope,
    caller: ModelCaller,
    call: { model: string; inputTokens: number; outputTokens: number; purpose: ModelCallPurpose; messageId?: string },
  ): Promise<{ costUsd: number }> {
    return this.service.recordModelCall(scope, who(caller), { ...call, purpose: purposes[call.purpose] });
  }
}

function who(caller: ModelCaller): { userId: string; apiKeyId?: string } {
  return { userId: caller.userId, ...(caller.apiKeyId ? { apiKeyId: caller.apiKeyId } : {}) };
}
