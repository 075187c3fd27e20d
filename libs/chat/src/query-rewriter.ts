import type { TenantScope } from '@quarry/core';
import { GenerationError, type GenerationProvider } from '@quarry/generation';
import { rewriteMessages } from './prompt-template';
import type { ModelBudget, ModelCaller } from './ports';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

export interface Rewrite {
  query: string;
  method: 'none' | 'model' | 'fallback';
  /** Time spent asking the model (not server overhead). */
  modelMs: number;
}

const HISTORY_TURNS = 6;
const MAX_QUERY_CHARS = 400;

/**
 * Turns a follow-up ("and its side effects?") into a standalone search query. The model does it with the
 * last few turns as data. When it fails, times out, is over budget or answers with something that cannot
 * be a query (empty, several lines, far too long), the fallback is the previous user question followed by
 * the follow-up: retrieval then still sees the subject the follow-up refers to.
 */
export class QueryRewriter {
  constructor(
    private readonly budget: ModelBudget,
    private readonly timeoutMs: number,
  ) {}

  async rewrite(scope: TenantScope, caller: ModelCaller, model: GenerationProvider, history: readonly Turn[], followUp: string, signal: AbortSignal): Promise<Rewrite> {
    if (history.length === 0) return { query: followUp, method: 'none', modelMs: 0 };
    const recent = history.slice(-HISTORY_TURNS);
    const fallback = { query: fallbackQuery(recent, followUp), method: 'fallback' as const };
    const started = performance.now();
    const messages = rewriteMessages(recent, followUp);
    const decision = await this.budget.authorize(scope, caller, model.model, 400);
    if (decision.action !== 'allow') return { ...fallback, modelMs: 0 };
    try {
      const result = await model.generate({
        messages,
        maxTokens: 64,
        temperature: 0,
        stop: ['\n'],
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      await this.budget.recordModelCall(scope, caller, { model: result.model, ...result.usage, purpose: 'rewrite' });
      const query = cleanQuery(result.text);
      if (result.finishReason === 'cancelled' || !query) return { ...fallback, modelMs: performance.now() - started };
      return { query, method: 'model', modelMs: performance.now() - started };
    } catch (error) {
      if (error instanceof GenerationError && error.partialUsage) {
        await this.budget.recordModelCall(scope, caller, { model: error.model, ...error.partialUsage, purpose: 'rewrite' });
      }
      return { ...fallback, modelMs: performance.now() - started };
    }
  }
}

export function fallbackQuery(history: readonly Turn[], followUp: string): string {
  const previous = [...history].reverse().find((turn) => turn.role === 'user');
  return previous ? `${previous.content} ${followUp}`.slice(0, 2_000) : followUp;
}

/** The model's line, without quotes or a "Standalone query:" echo; undefined when it is not a usable query. */
export function cleanQuery(text: string): string | undefined {
  const line = text
    .trim()
    .replace(/^(standalone (search )?query|query)\s*:\s*/i, '')
    .replace(/^["'“]+|["'”]+$/g, '')
    .trim();
  if (line.length < 3 || line.length > MAX_QUERY_CHARS || line.includes('\n')) return undefined;
  return line;
}
