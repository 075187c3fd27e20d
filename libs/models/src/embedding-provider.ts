/**
 * What a chunk or a query is embedded for. Asymmetric models (e5, bge) put a different instruction in
 * front of each; symmetric ones (USE) ignore it. Omitted means 'document'.
 */
export type EmbeddingPurpose = 'document' | 'query';

export interface EmbedOptions {
  purpose?: EmbeddingPurpose;
  /** Cancels the call: queued batches are dropped and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface EmbeddingResult {
  /** One vector per input text, in input order. */
  vectors: number[][];
  /**
   * Input tokens, for metering: counted by the model's own tokenizer for local models, as reported by
   * the server for remote ones (estimated at 4 characters per token if a server reports none).
   */
  tokens: number;
}

/**
 * One embedding model. Implementations load lazily, so constructing one is cheap and cannot fail
 * because a model is slow to load; `check()` is where a broken model shows up.
 */
export interface EmbeddingProvider {
  /** Stable id recorded with every chunk, e.g. 'use-lite-512'. Vectors of different ids never mix. */
  readonly model: string;
  readonly dimensions: number;
  /** Blank texts are refused (EmbeddingError, not retryable): they have no meaning to embed. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /** Same as `embed`, plus the token count callers meter. */
  embedWithUsage(texts: readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
  /** For readiness checks: embeds a short text and verifies the answer's shape. */
  check(): Promise<void>;
}

export interface EmbeddingErrorOptions {
  model: string;
  /** True when the same call may succeed later (overload, network, timeout); false for bad input or setup. */
  retryable: boolean;
  /** HTTP status of a remote provider's answer, when there was one. */
  status?: number;
  /** How long the server asked us to wait before trying again. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Any failure to embed. Messages name the model and the failure, never credentials, and quote at most
 * 200 characters of a server's error body, so they are safe to log. Queue workers turn
 * `retryable: false` into a permanent job failure.
 */
export class EmbeddingError extends Error {
  readonly model: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: EmbeddingErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'EmbeddingError';
    this.model = options.model;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
