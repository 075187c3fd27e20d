import { abortReason, parseRetryAfterMs, retryDelayMs, sleep, type BackoffPolicy } from '@quarry/core';
import { RerankError, type TextRerankProvider } from './rerank-provider';

/**
 * `tei`: Hugging Face Text Embeddings Inference, `POST {baseUrl}/rerank` with `{query, texts}` answering
 * `[{index, score}]`. `cohere`: the Cohere-style `POST {baseUrl}/v1/rerank` with `{model, query, documents}`
 * answering `{results: [{index, relevance_score}]}`, which vLLM, Jina and Cohere speak.
 */
export type RerankProtocol = 'tei' | 'cohere';

export interface HttpRerankerConfig {
  baseUrl: string;
  protocol: RerankProtocol;
  /** Sent as `model` (cohere protocol). */
  model?: string | undefined;
  apiKey?: string | undefined;
  /** Per attempt. */
  timeoutMs?: number | undefined;
  maxAttempts?: number | undefined;
  backoff?: BackoffPolicy | undefined;
}

/**
 * A remote reranking server over HTTP. Retries what a retry can fix (connection errors, 408/429/5xx, a
 * timed-out attempt) with jittered backoff; the caller's signal (search's time budget) stops everything.
 * The API key is sent as a bearer token and never appears in errors.
 */
export class HttpRerankProvider implements TextRerankProvider {
  readonly name = 'http';
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;

  constructor(private readonly config: HttpRerankerConfig) {
    const base = config.baseUrl.replace(/\/+$/, '');
    this.url = config.protocol === 'tei' ? `${base}/rerank` : `${base}/v1/rerank`;
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.maxAttempts = config.maxAttempts ?? 3;
    this.backoff = config.backoff ?? { baseDelayMs: 100, maxDelayMs: 2_000 };
  }

  async rerank(query: string, documents: readonly string[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    if (documents.length === 0) return [];
    const signal = options.signal ?? new AbortController().signal;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request(query, documents, signal);
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        const retryable = error instanceof RerankError && error.retryable;
        const retryAfter = error instanceof RetryAfter ? error.afterMs : undefined;
        const delay = retryable && attempt < this.maxAttempts ? retryDelayMs(attempt, this.backoff, retryAfter) : undefined;
        if (delay === undefined) throw error;
        await sleep(delay, signal);
      }
    }
  }

  private async request(query: string, documents: readonly string[], signal: AbortSignal): Promise<number[]> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const body =
      this.config.protocol === 'tei'
        ? { query, texts: documents, truncate: true, raw_scores: false }
        : { ...(this.config.model ? { model: this.config.model } : {}), query, documents, top_n: documents.length };
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      if (timeout.aborted) throw new RerankError(`${this.url}: no answer within ${this.timeoutMs} ms`, true, { cause: error });
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new RerankError(`${this.url}: ${cause}`, true, { cause: error });
    }
    if (!response.ok) {
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      await response.body?.cancel();
      const message = `${this.url} answered HTTP ${response.status}`;
      const after = parseRetryAfterMs(response.headers.get('retry-after'));
      throw after !== undefined && retryable ? new RetryAfter(message, after) : new RerankError(message, retryable);
    }
    return this.scores(await response.json(), documents.length);
  }

  /** Both protocols answer (index, score) pairs, possibly sorted by score: put them back in input order. */
  private scores(payload: unknown, count: number): number[] {
    const items = this.config.protocol === 'tei' ? payload : (payload as { results?: unknown } | null)?.results;
    if (!Array.isArray(items)) throw new RerankError(`${this.url} answered without a list of scores`, false);
    const scores = new Array<number | undefined>(count).fill(undefined);
    for (const item of items as { index?: unknown; score?: unknown; relevance_score?: unknown }[]) {
      const score = this.config.protocol === 'tei' ? item.score : item.relevance_score;
      if (typeof item.index !== 'number' || !Number.isInteger(item.index) || item.index < 0 || item.index >= count || typeof score !== 'number') {
        throw new RerankError(`${this.url} answered a malformed score entry`, false);
      }
      scores[item.index] = score;
    }
    if (scores.some((score) => score === undefined)) throw new RerankError(`${this.url} scored ${items.length} of ${count} documents`, false);
    return scores as number[];
  }
}

/** A retryable failure whose server said when to come back. */
class RetryAfter extends RerankError {
  constructor(
    message: string,
    readonly afterMs: number,
  ) {
    super(message, true);
  }
}
