import { abortReason, parseRetryAfterMs, retryDelayMs, Semaphore, sleep, type BackoffPolicy } from '@quarry/core';
import { z } from 'zod';
import { EmbeddingError, type EmbeddingProvider, type EmbeddingResult, type EmbedOptions } from './embedding-provider';
import { assertEmbeddable, estimateTokens, inBatches, withPrefix, type InstructionPrefixes } from './embedding-input';
import { l2Normalize } from './vectors';

export interface OpenAiCompatibleConfig {
  /** Server root, e.g. http://tei:8080; `/v1/embeddings` is appended (a trailing /v1 is accepted too). */
  baseUrl: string;
  /** Sent as a bearer token. Kept in a private field: never logged, serialised or put in an error. */
  apiKey?: string | undefined;
  /** Model name the server knows; also the id recorded with every chunk. */
  model: string;
  /** Length every returned vector must have. */
  dimensions: number;
  /**
   * Ask the server for `dimensions` (OpenAI text-embedding-3, matryoshka models on vLLM). Off by default:
   * servers whose model has a fixed size reject the field.
   */
  sendDimensions?: boolean | undefined;
  /** Texts per request; TEI refuses more than 32 by default. Default 32. */
  batchSize?: number | undefined;
  /** Requests in flight at once, across all concurrent calls on this provider. Default 4. */
  concurrency?: number | undefined;
  /** Per request (one attempt), connection to last byte. Default 30 s. */
  timeoutMs?: number | undefined;
  /** Attempts per batch, first one included. Default 4. */
  maxAttempts?: number | undefined;
  retry?: Partial<BackoffPolicy> | undefined;
  queryPrefix?: string | undefined;
  documentPrefix?: string | undefined;
}

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number().int().min(0) }).optional(),
});


/**
 * Client for `POST /v1/embeddings` as served by OpenAI and the self-hosted GPU servers that copy it
 * (Text Embeddings Inference, vLLM, Infinity, Ollama). Splits input into batches sent concurrently under a
 * shared limit, retries overload and network failures with backoff, and checks every answer's shape.
 *
 * Vectors are L2-normalised on arrival. Most servers already do it; doing it here means inner product
 * equals cosine similarity whatever the server's settings, as for every other provider.
 */
export class OpenAiCompatibleEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  readonly #apiKey: string | undefined;
  private readonly url: string;
  /** For messages: scheme, host and port only, so credentials in a URL never reach a log. */
  private readonly server: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly inFlight: Semaphore;
  private readonly prefixes: InstructionPrefixes;
  private readonly sendDimensions: boolean;

  constructor(config: OpenAiCompatibleConfig) {
    const base = new URL(config.baseUrl);
    this.url = new URL(`${base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/embeddings`, base).toString();
    this.server = base.origin;
    this.model = config.model;
    this.dimensions = config.dimensions;
    this.#apiKey = config.apiKey;
    this.batchSize = config.batchSize ?? 32;
    this.timeoutMs = config.timeoutMs ?? 30_000;
    this.maxAttempts = config.maxAttempts ?? 4;
    this.backoff = { baseDelayMs: config.retry?.baseDelayMs ?? 500, maxDelayMs: config.retry?.maxDelayMs ?? 20_000 };
    this.inFlight = new Semaphore(config.concurrency ?? 4);
    this.prefixes = { queryPrefix: config.queryPrefix, documentPrefix: config.documentPrefix };
    this.sendDimensions = config.sendDimensions ?? false;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    }
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  async embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    assertEmbeddable(this.model, texts);
    options.signal?.throwIfAborted();
    if (texts.length === 0) return { vectors: [], tokens: 0 };
    const batches = inBatches(withPrefix(texts, options.purpose ?? 'document', this.prefixes), this.batchSize);
    // The first batch to fail for good cancels its siblings: the call has failed, their work is wasted.
    const siblings = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, siblings.signal]) : siblings.signal;
    const results = await Promise.all(
      batches.map((batch) =>
        this.embedBatch(batch, signal, this.maxAttempts).catch((error: unknown) => {
          siblings.abort(error);
          throw error;
        }),
      ),
    );
    return {
      vectors: results.flatMap((result) => result.vectors),
      tokens: results.reduce((sum, result) => sum + result.tokens, 0),
    };
  }

  /** One request, no retries: a readiness check should report the server as it is now. */
  async check(): Promise<void> {
    await this.embedBatch(['readiness check'], new AbortController().signal, 1);
  }

  private async embedBatch(batch: string[], signal: AbortSignal, maxAttempts: number): Promise<EmbeddingResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inFlight.run(() => this.request(batch, signal), signal);
      } catch (error) {
        // The caller gave up, or a sibling batch failed for good: nothing left to retry for.
        if (signal.aborted) throw abortReason(signal);
        if (!(error instanceof EmbeddingError) || !error.retryable) throw error;
        const delay = attempt < maxAttempts ? retryDelayMs(attempt, this.backoff, error.retryAfterMs) : undefined;
        if (delay === undefined) {
          throw new EmbeddingError(`${error.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`, {
            model: this.model,
            retryable: true,
            status: error.status,
            retryAfterMs: error.retryAfterMs,
            cause: error,
          });
        }
        await sleep(delay, signal);
      }
    }
  }

  /** One attempt. Throws EmbeddingError, or the caller's abort reason when the caller gave up. */
  private async request(batch: string[], signal: AbortSignal): Promise<EmbeddingResult> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#apiKey) headers['authorization'] = `Bearer ${this.#apiKey}`;
    const body = {
      model: this.model,
      input: batch,
      encoding_format: 'float',
      ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, timeout]),
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      if (timeout.aborted) {
        throw this.failure(`no answer within ${this.timeoutMs} ms`, { retryable: true, cause: error });
      }
      throw this.failure(`unreachable: ${networkCause(error)}`, { retryable: true, cause: error });
    }
    if (!response.ok) {
      // Overload (429) and server faults (5xx) pass; any other 4xx means this request will never succeed.
      const retryable = response.status === 429 || response.status >= 500;
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
      throw this.failure(`answered ${response.status}: ${excerpt(text)}`, { retryable, status: response.status, retryAfterMs });
    }
    return this.parse(text, batch);
  }

  private parse(text: string, batch: string[]): EmbeddingResult {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.failure(`answered with a body that is not JSON: ${excerpt(text)}`, { retryable: false });
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || 'body';
      throw this.failure(`answered with an unexpected shape (${where}: ${issue?.message ?? 'invalid'})`, { retryable: false });
    }
    const { data, usage } = parsed.data;
    if (data.length !== batch.length) {
      throw this.failure(`returned ${data.length} embeddings for ${batch.length} texts`, { retryable: false });
    }
    // Servers may answer out of order; `index` is the only link between a vector and its text.
    const vectors = new Array<number[] | undefined>(batch.length);
    for (const item of data) {
      if (item.index >= batch.length || vectors[item.index] !== undefined) {
        throw this.failure(`returned index ${item.index} twice or out of range`, { retryable: false });
      }
      if (item.embedding.length !== this.dimensions) {
        throw this.failure(`returned a ${item.embedding.length}-dimensional vector; ${this.dimensions} expected`, {
          retryable: false,
        });
      }
      vectors[item.index] = l2Normalize(item.embedding);
    }
    return { vectors: vectors as number[][], tokens: usage?.prompt_tokens ?? estimateTokens(batch) };
  }

  private failure(
    message: string,
    options: { retryable: boolean; status?: number; retryAfterMs?: number | undefined; cause?: unknown },
  ): EmbeddingError {
    return new EmbeddingError(`Embedding server ${this.server} (model ${this.model}) ${message}`, { model: this.model, ...options });
  }
}

/** fetch wraps the useful part ("ECONNREFUSED") in `cause`. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  return code ?? (cause instanceof Error ? cause.message : String(cause));
}

/** Enough of an error body to diagnose it, never so much that a log fills with a document. */
function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? '(empty body)' : oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
