/**
 * The contract every text-generation backend implements (OpenAI-compatible servers, the Anthropic
 * Messages API, the in-process llama.cpp model). Chat code depends only on this file.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface GenerationRequest {
  messages: readonly ChatMessage[];
  /** Upper bound on generated tokens; providers never exceed it. */
  maxTokens: number;
  temperature?: number;
  topP?: number;
  /** Generation stops before emitting any of these strings. */
  stop?: readonly string[];
  /**
   * Cancels generation (client disconnect, time budget). The stream then ends with a `done` event whose
   * finishReason is 'cancelled' and whose usage counts only what was generated before the abort.
   */
  signal?: AbortSignal;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export type GenerationEvent =
  | { type: 'delta'; text: string }
  | {
      type: 'done';
      finishReason: FinishReason;
      usage: TokenUsage;
      /** The model that answered, when a fallback chain may have used another than its first. */
      model?: string;
    };

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The model that answered (after any fallback), as priced in the price table. */
  model: string;
}

/**
 * One configured model. Implementations connect or load lazily, so constructing one cannot fail
 * because a server is down or a model is slow to load; `check()` is where that shows up.
 */
export interface GenerationProvider {
  /** Provider kind, e.g. 'openai-compatible', 'anthropic', 'llama-cpp'. */
  readonly kind: string;
  /** Model name as recorded in traces and usage and looked up in the price table. */
  readonly model: string;
  /** Context window in tokens (prompt plus completion). */
  readonly contextWindow: number;
  /** Tokens the model would count for this text: exact for local models, estimated for remote ones. */
  countTokens(text: string): Promise<number>;
  /**
   * Streams the answer. Ends with exactly one `done` event; failures before or during generation throw
   * GenerationError (never a silent empty stream).
   */
  stream(request: GenerationRequest): AsyncIterable<GenerationEvent>;
  /** Same as `stream`, collected. */
  generate(request: GenerationRequest): Promise<GenerationResult>;
  /** For readiness checks: a cheap call that proves the model answers. */
  check(): Promise<void>;
}

export type GenerationErrorKind =
  | 'timeout'
  | 'unavailable'
  | 'rate_limited'
  | 'bad_response'
  | 'empty_response'
  | 'invalid_request'
  | 'context_overflow';

export interface GenerationErrorOptions {
  model: string;
  kind: GenerationErrorKind;
  /** True when the same call may succeed later or on another provider (timeouts, 429, 5xx, network). */
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  /** Tokens already generated (and billable) when the failure happened mid-stream. */
  partialUsage?: TokenUsage;
  cause?: unknown;
}

/**
 * Any failure to generate. Messages name the model and the failure, never credentials or prompt text,
 * and quote at most 200 characters of a server's error body, so they are safe to log.
 */
export class GenerationError extends Error {
  readonly model: string;
  readonly kind: GenerationErrorKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly partialUsage: TokenUsage | undefined;

  constructor(message: string, options: GenerationErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'GenerationError';
    this.model = options.model;
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.partialUsage = options.partialUsage;
  }
}
