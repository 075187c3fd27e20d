import {
  GenerationError,
  type GenerationEvent,
  type GenerationProvider,
  type GenerationRequest,
  type GenerationResult,
} from './generation-provider';
import { collectStream } from './request';

export interface FallbackOptions {
  /**
   * A provider (other than the last) that has produced no text this long after the request is abandoned
   * for the next one. Unset: only errors cause a fallback.
   */
  firstTokenTimeoutMs?: number | undefined;
}

export const FALLBACK_KIND = 'fallback';

/**
 * Tries providers in order: the next one answers when the current one fails retryably (down, 429, 5xx,
 * garbage, empty, timeout) or is too slow to its first token. The `done` event names the model that
 * answered. Never falls back once text has reached the caller (the answer would be two models' words
 * glued together): the error then says so. Requests that no model could answer (invalid, too long) fail
 * at once.
 */
export class FallbackGenerationProvider implements GenerationProvider {
  readonly kind = FALLBACK_KIND;
  readonly model: string;
  readonly contextWindow: number;

  constructor(
    readonly providers: readonly GenerationProvider[],
    private readonly options: FallbackOptions = {},
  ) {
    const primary = providers[0];
    if (!primary) throw new RangeError('A fallback chain needs at least one provider');
    this.model = primary.model;
    // A prompt packed for the chain must fit whichever model ends up answering it.
    this.contextWindow = Math.min(...providers.map((provider) => provider.contextWindow));
  }

  /** The chain without its primary: for callers that must not use it (budget exhausted, kill switch on it). */
  withoutPrimary(): FallbackGenerationProvider | undefined {
    return this.providers.length > 1 ? new FallbackGenerationProvider(this.providers.slice(1), this.options) : undefined;
  }

  countTokens(text: string): Promise<number> {
    return this.providers[0]!.countTokens(text);
  }

  check(): Promise<void> {
    return this.providers[0]!.check();
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    return collectStream(this.model, this.stream(request));
  }

  async *stream(request: GenerationRequest): AsyncGenerator<GenerationEvent> {
    const failures: string[] = [];
    let lastError: GenerationError | undefined;
    for (const [index, provider] of this.providers.entries()) {
      const isLast = index === this.providers.length - 1;
      const tooSlow = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, tooSlow.signal]) : tooSlow.signal;
      const limit = this.options.firstTokenTimeoutMs;
      const timer = limit !== undefined && !isLast ? setTimeout(() => tooSlow.abort(), limit) : undefined;
      let streamed = false;
      try {
        for await (const event of provider.stream({ ...request, signal })) {
          if (event.type === 'delta') {
            streamed = true;
            clearTimeout(timer);
            yield event;
          } else if (tooSlow.signal.aborted && !streamed && !request.signal?.aborted) {
            failures.push(`${provider.model}: no text within ${limit} ms`);
            break;
          } else {
            yield { ...event, model: event.model ?? provider.model };
            return;
          }
        }
      } catch (error) {
        if (!(error instanceof GenerationError)) throw error;
        if (streamed) {
          throw new GenerationError(`${error.message} (text had already been streamed, so no fallback was tried)`, {
            model: error.model,
            kind: error.kind,
            retryable: false,
            status: error.status,
            partialUsage: error.partialUsage,
            cause: error,
          });
        }
        if (!error.retryable) throw error;
        failures.push(error.message);
        lastError = error;
      } finally {
        clearTimeout(timer);
      }
    }
    throw new GenerationError(`Every model in the chain failed: ${failures.join('; ')}`, {
      model: this.model,
      kind: lastError?.kind ?? 'timeout',
      retryable: true,
      status: lastError?.status,
      retryAfterMs: lastError?.retryAfterMs,
      cause: lastError,
    });
  }
}
