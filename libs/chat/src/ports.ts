import type { TenantScope } from '@quarry/core';
import type { GenerationProvider } from '@quarry/generation';

/** Who a model call is for: budgets and usage are per user and per API key. */
export interface ModelCaller {
  userId: string;
  apiKeyId: string | null;
}

export type BudgetDecision =
  | { action: 'allow' }
  | { action: 'fallback'; reason: string; model?: string }
  | { action: 'block'; code: string; status: number; message: string; retryAfterMs?: number };

export type ModelCallPurpose = 'chat' | 'rewrite' | 'replay' | 'batch';

/**
 * Budgets, rate limits and usage for model calls (metering's ModelBudgetService has this shape). Every
 * model call is authorized first and recorded after, also when it was cancelled or failed half-way.
 */
export interface ModelBudget {
  authorize(scope: TenantScope, caller: ModelCaller, model: string, estimatedTokens: number): Promise<BudgetDecision>;
  recordModelCall(
    scope: TenantScope,
    caller: ModelCaller,
    call: { model: string; inputTokens: number; outputTokens: number; purpose: ModelCallPurpose; messageId?: string },
  ): Promise<{ costUsd: number }>;
}
export const MODEL_BUDGET = Symbol('ModelBudget');

/** The tenant's configured models: the primary and, when configured, a cheaper or sturdier fallback. */
export interface ChatModelSet {
  primary: GenerationProvider;
  fallback?: GenerationProvider;
}

export interface ChatModels {
  forTenant(scope: TenantScope): Promise<ChatModelSet>;
}
export const CHAT_MODELS = Symbol('ChatModels');
