import { parseRetryAfterMs, retryDelayMs, sleep, type BackoffPolicy } from '@quarry/core';
import {
  GenerationError,
  type FinishReason,
  type GenerationErrorKind,
  type GenerationEvent,
  type TokenUsage,
} from './generation-provider';

/** What a remote provider's wire format boils down to. */
export type RemoteChunk =
  | { type: 'text'; text: string }
  | { type: 'usage'; inputTokens?: number | undefined; outputTokens?: number | undefined }
  | { type: 'finish'; reason: 'stop' | 'length' };

export interface RemoteTimeouts {
  /** Until the server answers with headers (per attempt). */
  connectTimeoutMs: number;
  /** From the request until the first generated text (per attempt): a slow model counts as failing. */
  firstTokenTimeoutMs: number;
  /** Longest silence between two chunks once text flows: catches a server that stalls mid-answer. */
  idleTimeoutMs: number;
  /** The whole call, retries and backoff included. */
  totalTimeoutMs: number;
}

export interface RemoteCallOptions {
  model: string;
  /** For messages: scheme, host and port only. */
  server: string;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeouts: RemoteTimeouts;
  signal: AbortSignal | undefined;
  /** Used when the server reports no usage. */
  estimateInputTokens: () => number;
  /** One attempt. Must honour `signal` and throw what `classify` understands. */
  open: (signal: AbortSignal) => AsyncIterable<RemoteChunk>;
  /** Maps an SDK error to a failure (everything not an abort or our own timeout). */
  classify: (error: unknown) => RemoteFailure;
}

export interface RemoteFailure {
  kind: GenerationErrorKind;
  retryable: boolean;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
  detail: string;
}

/** Kinds worth another attempt on the same server (overload, server faults, network, slowness). */
const retriedKinds: ReadonlySet<GenerationErrorKind> = new Set(['unavailable', 'rate_limited', 'timeout']);

class AttemptTimeout extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/**
 * Runs a remote generation with retries (exponential backoff with jitter, Retry-After honoured) and the
 * timeouts above, turning chunks into GenerationEvents. Retries happen only before any text was emitted:
 * once the caller has seen tokens, a retry would repeat them. A caller's abort ends the stream with
 * `done`/'cancelled' and the usage so far (the server's, or estimated).
 */
export async function* remoteGeneration(options: RemoteCallOptions): AsyncGenerator<GenerationEvent> {
  const { model, timeouts } = options;
  const total = AbortSignal.timeout(timeouts.totalTimeoutMs);
  let emittedChunks = 0;
  const usage: Partial<TokenUsage> = {};
  const fail = (failure: RemoteFailure, attempts: number, cause?: unknown): GenerationError =>
    new GenerationError(
      `Model ${model} at ${options.server}: ${failure.detail}${attempts > 1 ? ` (gave up after ${attempts} attempts)` : ''}`,
      {
        model,
        kind: failure.kind,
        retryable: failure.retryable,
        status: failure.status,
        retryAfterMs: failure.retryAfterMs,
        partialUsage: emittedChunks > 0 ? settle(usage, options, emittedChunks) : undefined,
        cause,
      },
    );

  for (let attempt = 1; ; attempt++) {
    const attemptAbort = new AbortController();
    const signals = [attemptAbort.signal, total, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, detail: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => attemptAbort.abort(new AttemptTimeout(detail)), ms);
    };
    arm(timeouts.firstTokenTimeoutMs, `no text within ${timeouts.firstTokenTimeoutMs} ms`);
    let finish: FinishReason | undefined;
    let failure: RemoteFailure | undefined;
    let cause: unknown;
    try {
      for await (const chunk of options.open(signal)) {
        // Chunks the SDK had already buffered are not delivered (nor counted) after an abort.
        signal.throwIfAborted();
        if (chunk.type === 'text') {
          if (chunk.text === '') continue;
          emittedChunks++;
          arm(timeouts.idleTimeoutMs, `stalled: no chunk for ${timeouts.idleTimeoutMs} ms after ${emittedChunks} chunks`);
          yield { type: 'delta', text: chunk.text };
        } else if (chunk.type === 'usage') {
          if (chunk.inputTokens !== undefined) usage.inputTokens = chunk.inputTokens;
          if (chunk.outputTokens !== undefined) usage.outputTokens = chunk.outputTokens;
        } else {
          finish = chunk.reason;
        }
      }
      // Some SDK streams end quietly instead of throwing when their signal aborts.
      signal.throwIfAborted();
      if (emittedChunks === 0) {
        failure = { kind: 'empty_response', retryable: true, detail: 'answered with no text' };
      } else {
        yield { type: 'done', finishReason: finish ?? 'stop', usage: settle(usage, options, emittedChunks) };
        return;
      }
    } catch (error) {
      cause = error;
      if (options.signal?.aborted) {
        yield { type: 'done', finishReason: 'cancelled', usage: emittedChunks > 0 ? settle(usage, options, emittedChunks) : { inputTokens: 0, outputTokens: 0 } };
        return;
      }
      if (total.aborted) {
        failure = { kind: 'timeout', retryable: true, detail: `no complete answer within ${timeouts.totalTimeoutMs} ms` };
      } else if (attemptAbort.signal.aborted && attemptAbort.signal.reason instanceof AttemptTimeout) {
        failure = { kind: 'timeout', retryable: true, detail: attemptAbort.signal.reason.detail };
      } else {
        failure = options.classify(error);
      }
    } finally {
      clearTimeout(timer);
      attemptAbort.abort();
    }

    const retry = emittedChunks === 0 && failure.retryable && retriedKinds.has(failure.kind) && attempt < options.maxAttempts;
    const delay = retry ? retryDelayMs(attempt, options.backoff, failure.retryAfterMs) : undefined;
    if (delay === undefined) {
      throw fail(
        emittedChunks > 0 ? { ...failure, detail: `${failure.detail} after ${emittedChunks} chunks were streamed` } : failure,
        attempt,
        cause,
      );
    }
    try {
      await sleep(delay, options.signal ? AbortSignal.any([options.signal, total]) : total);
    } catch {
      if (options.signal?.aborted) {
        yield { type: 'done', finishReason: 'cancelled', usage: { inputTokens: 0, outputTokens: 0 } };
        return;
      }
      throw fail({ kind: 'timeout', retryable: true, detail: `no complete answer within ${timeouts.totalTimeoutMs} ms` }, attempt);
    }
  }
}

/** The server's counts where it gave them; otherwise the prompt estimate and one token per streamed chunk. */
function settle(usage: Partial<TokenUsage>, options: RemoteCallOptions, chunks: number): TokenUsage {
  return {
    inputTokens: usage.inputTokens ?? options.estimateInputTokens(),
    outputTokens: usage.outputTokens ?? chunks,
  };
}

/** The mapping shared by the SDK-based providers: HTTP status and network failures to kinds. */
export function classifyHttpFailure(status: number | undefined, headers: Headers | undefined, message: string): RemoteFailure {
  const detail = excerpt(message);
  if (status === undefined) return { kind: 'unavailable', retryable: true, detail: `unreachable: ${detail}` };
  const retryAfterMs = parseRetryAfterMs(headers?.get('retry-after') ?? null);
  if (status === 429) return { kind: 'rate_limited', retryable: true, status, retryAfterMs, detail: `answered 429: ${detail}` };
  if (status >= 500) return { kind: 'unavailable', retryable: true, status, retryAfterMs, detail: `answered ${status}: ${detail}` };
  if (status === 408) return { kind: 'timeout', retryable: true, status, detail: `answered 408: ${detail}` };
  if (status === 401 || status === 403) return { kind: 'unavailable', retryable: false, status, detail: `refused the credentials (${status})` };
  if (status === 400 && /context|too long|maximum.*tokens|prompt is too long/i.test(message)) {
    return { kind: 'context_overflow', retryable: false, status, detail: `answered 400: ${detail}` };
  }
  return { kind: 'invalid_request', retryable: false, status, detail: `answered ${status}: ${detail}` };
}

/** Enough of an error text to diagnose it, never so much that a log fills with a prompt. */
export function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? '(empty)' : oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** Servers take a root ("http://vllm:8000") or a /v1 URL; SDKs differ on which they want. */
export function serverOrigin(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

/** Settings every remote provider takes. */
export interface RemoteProviderConfig {
  /** Server root or its /v1 URL, e.g. http://vllm:8000 or https://api.openai.com/v1. */
  baseUrl: string;
  /** Kept in the SDK client only: never logged, serialised or put in an error. */
  apiKey?: string | undefined;
  /** Name the server knows the model by; also recorded in traces and usage. */
  model: string;
  contextWindow: number;
  /** Attempts per call, the first included. Default 3. */
  maxAttempts?: number | undefined;
  retry?: Partial<BackoffPolicy> | undefined;
  timeouts?: Partial<RemoteTimeouts> | undefined;
}

export const defaultRemoteTimeouts: RemoteTimeouts = Object.freeze({
  connectTimeoutMs: 10_000,
  firstTokenTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 180_000,
});

export interface ResolvedRemoteSettings {
  server: string;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeouts: RemoteTimeouts;
}

export function resolveRemoteSettings(config: RemoteProviderConfig): ResolvedRemoteSettings {
  const maxAttempts = config.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  return {
    server: serverOrigin(config.baseUrl),
    maxAttempts,
    backoff: { baseDelayMs: config.retry?.baseDelayMs ?? 500, maxDelayMs: config.retry?.maxDelayMs ?? 10_000 },
    timeouts: { ...defaultRemoteTimeouts, ...config.timeouts },
  };
}

/** Prompt size for servers that report no usage: ~4 characters a token plus a few per message for the template. */
export function estimatePromptTokens(messages: readonly { content: string }[]): number {
  return messages.reduce((sum, message) => sum + Math.ceil(message.content.length / 4) + 4, 0);
}
