import path from 'node:path';
import { Piscina } from 'piscina';
import type { EmbeddingProvider, EmbeddingResult, EmbedOptions } from './embedding-provider';
import { assertEmbeddable } from './embedding-input';
import { USE_LITE_MODEL_ID, type UseLiteOptions } from './use-lite.provider';

/**
 * USE-Lite on its own worker thread. The model is CPU-bound and synchronous for the length of a forward
 * pass; on the ingestion worker's main thread it would stall everything else the job does (database
 * writes, storage, queue bookkeeping). On a thread of its own, that work overlaps with inference.
 * One thread: a second copy of the model would only compete for the same cores.
 */
export class ThreadedUseLiteEmbeddingProvider implements EmbeddingProvider {
  readonly model = USE_LITE_MODEL_ID;
  readonly dimensions = 512;
  private readonly pool: Piscina;

  constructor(private readonly options: UseLiteOptions = {}) {
    this.pool = new Piscina({ filename: path.resolve(__dirname, 'use-lite.thread.js'), minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  async embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    assertEmbeddable(this.model, texts);
    if (texts.length === 0) return { vectors: [], tokens: 0 };
    return (await this.pool.run({ texts: [...texts], options: this.options }, options.signal ? { signal: options.signal } : {})) as EmbeddingResult;
  }

  async check(): Promise<void> {
    const [vector] = await this.embed(['readiness check']);
    if (vector?.length !== this.dimensions) throw new Error('the embedding thread returned no vector');
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
