import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataType, FeatureExtractionPipeline } from '@huggingface/transformers' with { 'resolution-mode': 'import' };
import { EmbeddingError, type EmbeddingProvider, type EmbeddingResult, type EmbedOptions } from './embedding-provider';
import { assertEmbeddable, inBatches, withPrefix } from './embedding-input';
import { isVectorList } from './vectors';

export interface TransformersEmbeddingConfig {
  /**
   * A model laid out as on the Hugging Face hub: `config.json`, `tokenizer.json`, `tokenizer_config.json`
   * and `onnx/model.onnx` (or `onnx/model_quantized.onnx` with dtype 'q8'). Mounted or copied by the
   * operator: nothing is ever downloaded.
   */
  modelDir: string;
  /** Id recorded with every chunk, e.g. 'bge-small-en-v1.5'. */
  model: string;
  /** 'cuda' needs onnxruntime-node's CUDA libraries; without them loading fails (not retryable). */
  device: 'cpu' | 'cuda';
  /** 'cls' for bge, 'mean' for e5 and MiniLM sentence-transformers. */
  pooling: 'mean' | 'cls';
  normalize: boolean;
  queryPrefix?: string | undefined;
  documentPrefix?: string | undefined;
  batchSize: number;
  /** Which ONNX file to run; default 'fp32' (onnx/model.onnx). */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16' | undefined;
  /** Vector size; default: the hidden size in config.json. */
  dimensions?: number | undefined;
}

/**
 * Feature extraction with transformers.js on ONNX Runtime (Node binding): the self-hosted path for
 * sentence-transformer models such as bge, e5 and MiniLM, exported to ONNX. Loaded on first use.
 */
export class TransformersEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  private readonly modelDir: string;
  private loading: Promise<FeatureExtractionPipeline> | undefined;

  constructor(private readonly config: TransformersEmbeddingConfig) {
    if (!Number.isInteger(config.batchSize) || config.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${config.batchSize}`);
    }
    this.model = config.model;
    // Absolute, so transformers.js reads the directory itself instead of treating it as a hub repo id.
    this.modelDir = resolve(config.modelDir);
    this.dimensions = config.dimensions ?? hiddenSize(this.modelDir, config.model);
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  async embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    assertEmbeddable(this.model, texts);
    if (texts.length === 0) return { vectors: [], tokens: 0 };
    const extractor = await this.loaded();
    const inputs = withPrefix(texts, options.purpose ?? 'document', this.config);
    const vectors: number[][] = [];
    let tokens = 0;
    for (const batch of inBatches(inputs, this.config.batchSize)) {
      // A forward pass cannot be interrupted; cancellation takes effect between batches.
      options.signal?.throwIfAborted();
      tokens += countTokens(extractor, batch);
      vectors.push(...(await this.forward(extractor, batch)));
    }
    return { vectors, tokens };
  }

  /** Loads the model if needed and embeds one text; `forward` verifies the vector's shape. */
  async check(): Promise<void> {
    await this.embed(['readiness check'], { purpose: 'query' });
  }

  private async forward(extractor: FeatureExtractionPipeline, batch: string[]): Promise<number[][]> {
    let output: unknown;
    try {
      const tensor = await extractor(batch, { pooling: this.config.pooling, normalize: this.config.normalize });
      output = tensor.tolist();
    } catch (error) {
      throw this.failure(`failed to embed a batch: ${messageOf(error)}`, error);
    }
    if (!isVectorList(output, batch.length, this.dimensions)) {
      throw this.failure(`returned vectors that are not ${batch.length} × ${this.dimensions} finite numbers`);
    }
    return output;
  }

  private loaded(): Promise<FeatureExtractionPipeline> {
    this.loading ??= this.load().catch((error: unknown) => {
      // Forget the failure so the next call (or readiness check) tries again instead of repeating it.
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<FeatureExtractionPipeline> {
    // transformers.js is ESM and heavy (ONNX Runtime, sharp); only processes that use it load it.
    const { env, pipeline } = await import('@huggingface/transformers');
    // Process-wide switches, the same for every instance: local files only, and no copies in a cache dir.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    env.useBrowserCache = false;
    try {
      return await pipeline('feature-extraction', this.modelDir, {
        local_files_only: true,
        device: this.config.device,
        dtype: (this.config.dtype ?? 'fp32') satisfies DataType,
      });
    } catch (error) {
      if (this.config.device === 'cuda' && /cuda/i.test(messageOf(error))) {
        throw this.failure(
          'cannot run on device "cuda": ONNX Runtime could not load its CUDA execution provider ' +
            '(libonnxruntime_providers_cuda.so and a CUDA 12 runtime are needed). Use device "cpu" on this machine. ' +
            `ONNX Runtime said: ${firstLine(messageOf(error))}`,
          error,
        );
      }
      throw this.failure(`could not be loaded from ${this.modelDir}: ${firstLine(messageOf(error))}`, error);
    }
  }

  private failure(message: string, cause?: unknown): EmbeddingError {
    // Setup and model faults: trying the same call again gives the same answer.
    return new EmbeddingError(`Embedding model ${this.model} ${message}`, { model: this.model, retryable: false, cause });
  }
}

/** Reads the vector size from config.json at construction, so a wrong directory stops the process at boot. */
function hiddenSize(modelDir: string, model: string): number {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(resolve(modelDir, 'config.json'), 'utf8'));
  } catch (error) {
    throw new EmbeddingError(`Embedding model ${model}: cannot read ${modelDir}/config.json: ${messageOf(error)}`, {
      model,
      retryable: false,
      cause: error,
    });
  }
  // BERT-likes call it hidden_size; DistilBERT `dim`, T5-likes `d_model`.
  const fields = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {};
  const size = fields['hidden_size'] ?? fields['dim'] ?? fields['d_model'];
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new EmbeddingError(`Embedding model ${model}: ${modelDir}/config.json names no hidden size; set dimensions`, {
      model,
      retryable: false,
    });
  }
  return size;
}

/**
 * Tokens the model actually sees: special tokens included, truncated text excluded, padding not counted.
 * The pipeline tokenizes again inside; WordPiece costs well under 1% of a transformer's forward pass.
 */
function countTokens(extractor: FeatureExtractionPipeline, batch: string[]): number {
  const encoded = extractor.tokenizer(batch, { padding: true, truncation: true }) as { attention_mask: { data: ArrayLike<bigint | number> } };
  let tokens = 0;
  for (const bit of Array.from(encoded.attention_mask.data)) tokens += Number(bit);
  return tokens;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}
