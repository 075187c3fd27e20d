import { resolve } from 'node:path';
import type { DataType, PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers' with { 'resolution-mode': 'import' };
import { RerankError, type TextRerankProvider } from './rerank-provider';

export interface CrossEncoderConfig {
  /**
   * A sequence-classification model laid out as on the Hugging Face hub (`config.json`, `tokenizer.json`,
   * `tokenizer_config.json`, `onnx/model.onnx`), e.g. bge-reranker-base or ms-marco-MiniLM-L-6-v2 exported
   * to ONNX. Mounted or copied by the operator: nothing is ever downloaded.
   */
  modelDir: string;
  /** 'cuda' needs onnxruntime-node's CUDA libraries. */
  device: 'cpu' | 'cuda';
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16' | undefined;
  /** Pairs per forward pass. */
  batchSize: number;
}

/**
 * A cross-encoder reranker with transformers.js on ONNX Runtime: each (query, passage) pair goes through the
 * model together and its first logit is the score. Loaded on first use; a forward pass cannot be interrupted,
 * so an abort takes effect between batches.
 */
export class CrossEncoderRerankProvider implements TextRerankProvider {
  readonly name = 'cross-encoder';
  private readonly modelDir: string;
  private loading: Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> | undefined;

  constructor(private readonly config: CrossEncoderConfig) {
    if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${config.batchSize}`);
    // Absolute, so transformers.js reads the directory instead of treating it as a hub repo id.
    this.modelDir = resolve(config.modelDir);
  }

  async rerank(query: string, documents: readonly string[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    if (documents.length === 0) return [];
    const { tokenizer, model } = await this.loaded();
    const scores: number[] = [];
    for (let start = 0; start < documents.length; start += this.config.batchSize) {
      options.signal?.throwIfAborted();
      const batch = documents.slice(start, start + this.config.batchSize);
      let logits: unknown;
      try {
        const inputs = tokenizer(batch.map(() => query), { text_pair: [...batch], padding: true, truncation: true }) as Record<string, unknown>;
        const output = (await model(inputs)) as { logits: { tolist(): unknown } };
        logits = output.logits.tolist();
      } catch (error) {
        throw new RerankError(`cross-encoder ${this.modelDir} failed on a batch: ${messageOf(error)}`, false, { cause: error });
      }
      if (!Array.isArray(logits) || logits.length !== batch.length) throw new RerankError(`cross-encoder returned ${String((logits as unknown[] | undefined)?.length)} rows for ${batch.length} pairs`, false);
      for (const row of logits as unknown[]) {
        const score = Array.isArray(row) ? (row[0] as unknown) : undefined;
        if (typeof score !== 'number' || !Number.isFinite(score)) throw new RerankError('cross-encoder returned a non-numeric score', false);
        scores.push(score);
      }
    }
    return scores;
  }

  private loaded(): Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> {
    // ESM and heavy: only processes that use it load it.
    const { env, AutoTokenizer, AutoModelForSequenceClassification } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    env.useBrowserCache = false;
    try {
      const tokenizer = await AutoTokenizer.from_pretrained(this.modelDir, { local_files_only: true });
      const model = await AutoModelForSequenceClassification.from_pretrained(this.modelDir, {
        local_files_only: true,
        device: this.config.device,
        dtype: (this.config.dtype ?? 'fp32') satisfies DataType,
      });
      return { tokenizer, model };
    } catch (error) {
      throw new RerankError(`cross-encoder could not be loaded from ${this.modelDir} on ${this.config.device}: ${messageOf(error).split('\n')[0]}`, false, { cause: error });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
