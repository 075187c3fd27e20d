import { ConfigError, loadConfig } from '@quarry/core';
import { z } from 'zod';
import type { OpenAiCompatibleConfig } from './openai-compatible.provider';
import type { TransformersEmbeddingConfig } from './transformers.provider';
import { USE_LITE_MODEL_ID, type UseLiteOptions } from './use-lite.provider';

/** `VAR=` in a compose file or Helm values means "not set", not "set to nothing". */
const variable = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');

/**
 * Embedding settings as environment variables. A plain object schema, so an app's config schema can
 * take it in with `.extend(embeddingEnvSchema.shape)`; rules that span variables live in
 * `embeddingSettings()`. The embedded USE-Lite model is always available; the OpenAI-compatible client
 * exists when EMBEDDING_OPENAI_BASE_URL is set, the local ONNX model when EMBEDDING_ONNX_DIR is set.
 */
export const embeddingEnvSchema = z.object({
  /** Model for collections that name none. */
  EMBEDDING_DEFAULT_MODEL: variable(z.string().min(1).default(USE_LITE_MODEL_ID)),
  EMBEDDING_USE_BATCH_SIZE: variable(positiveInt(1_024).default(32)),

  EMBEDDING_OPENAI_BASE_URL: variable(httpUrl.optional()),
  EMBEDDING_OPENAI_API_KEY: variable(z.string().optional()),
  /** Name the server knows the model by; also the id recorded with each chunk. */
  EMBEDDING_OPENAI_MODEL: variable(z.string().min(1).max(200).optional()),
  EMBEDDING_OPENAI_DIMENSIONS: variable(positiveInt(16_000).optional()),
  /** Send `dimensions` in the request (OpenAI text-embedding-3, matryoshka models); most servers reject it. */
  EMBEDDING_OPENAI_SEND_DIMENSIONS: variable(bool.default(false)),
  EMBEDDING_OPENAI_BATCH_SIZE: variable(positiveInt(2_048).default(32)),
  EMBEDDING_OPENAI_CONCURRENCY: variable(positiveInt(64).default(4)),
  EMBEDDING_OPENAI_TIMEOUT_MS: variable(z.coerce.number().int().min(100).max(600_000).default(30_000)),
  EMBEDDING_OPENAI_MAX_ATTEMPTS: variable(positiveInt(10).default(4)),
  EMBEDDING_OPENAI_QUERY_PREFIX: variable(z.string().optional()),
  EMBEDDING_OPENAI_DOCUMENT_PREFIX: variable(z.string().optional()),

  /** Directory holding config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx. */
  EMBEDDING_ONNX_DIR: variable(z.string().min(1).optional()),
  /** Id recorded with each chunk, e.g. bge-small-en-v1.5. */
  EMBEDDING_ONNX_MODEL: variable(z.string().min(1).max(200).optional()),
  EMBEDDING_ONNX_DEVICE: variable(z.enum(['cpu', 'cuda']).default('cpu')),
  /** No default: the wrong pooling degrades retrieval silently (bge: cls; e5, MiniLM: mean). */
  EMBEDDING_ONNX_POOLING: variable(z.enum(['mean', 'cls']).optional()),
  EMBEDDING_ONNX_NORMALIZE: variable(bool.default(true)),
  EMBEDDING_ONNX_DTYPE: variable(z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('fp32')),
  EMBEDDING_ONNX_BATCH_SIZE: variable(positiveInt(1_024).default(16)),
  EMBEDDING_ONNX_QUERY_PREFIX: variable(z.string().optional()),
  EMBEDDING_ONNX_DOCUMENT_PREFIX: variable(z.string().optional()),
});

export type EmbeddingEnv = z.infer<typeof embeddingEnvSchema>;

/** What `EmbeddingProviders.fromSettings` builds from. */
export interface EmbeddingSettings {
  defaultModel: string;
  useLite: UseLiteOptions;
  openAiCompatible?: OpenAiCompatibleConfig;
  transformers?: TransformersEmbeddingConfig;
}

/**
 * Turns validated variables into provider settings, checking what no single variable can: a server
 * needs a model and dimensions, the default must be a configured model. Names every problem at once.
 */
export function embeddingSettings(env: EmbeddingEnv): EmbeddingSettings {
  const problems: string[] = [];
  const require = (name: keyof EmbeddingEnv, because: keyof EmbeddingEnv): void => {
    if (env[name] === undefined) problems.push(`${name}: is required when ${because} is set`);
  };
  const settings: EmbeddingSettings = {
    defaultModel: env.EMBEDDING_DEFAULT_MODEL,
    useLite: { batchSize: env.EMBEDDING_USE_BATCH_SIZE },
  };

  if (env.EMBEDDING_OPENAI_BASE_URL !== undefined) {
    require('EMBEDDING_OPENAI_MODEL', 'EMBEDDING_OPENAI_BASE_URL');
    require('EMBEDDING_OPENAI_DIMENSIONS', 'EMBEDDING_OPENAI_BASE_URL');
    if (env.EMBEDDING_OPENAI_MODEL !== undefined && env.EMBEDDING_OPENAI_DIMENSIONS !== undefined) {
      settings.openAiCompatible = {
        baseUrl: env.EMBEDDING_OPENAI_BASE_URL,
        apiKey: env.EMBEDDING_OPENAI_API_KEY,
        model: env.EMBEDDING_OPENAI_MODEL,
        dimensions: env.EMBEDDING_OPENAI_DIMENSIONS,
        sendDimensions: env.EMBEDDING_OPENAI_SEND_DIMENSIONS,
        batchSize: env.EMBEDDING_OPENAI_BATCH_SIZE,
        concurrency: env.EMBEDDING_OPENAI_CONCURRENCY,
        timeoutMs: env.EMBEDDING_OPENAI_TIMEOUT_MS,
        maxAttempts: env.EMBEDDING_OPENAI_MAX_ATTEMPTS,
        queryPrefix: env.EMBEDDING_OPENAI_QUERY_PREFIX,
        documentPrefix: env.EMBEDDING_OPENAI_DOCUMENT_PREFIX,
      };
    }
  }

  if (env.EMBEDDING_ONNX_DIR !== undefined) {
    require('EMBEDDING_ONNX_MODEL', 'EMBEDDING_ONNX_DIR');
    require('EMBEDDING_ONNX_POOLING', 'EMBEDDING_ONNX_DIR');
    if (env.EMBEDDING_ONNX_MODEL !== undefined && env.EMBEDDING_ONNX_POOLING !== undefined) {
      settings.transformers = {
        modelDir: env.EMBEDDING_ONNX_DIR,
        model: env.EMBEDDING_ONNX_MODEL,
        device: env.EMBEDDING_ONNX_DEVICE,
        pooling: env.EMBEDDING_ONNX_POOLING,
        normalize: env.EMBEDDING_ONNX_NORMALIZE,
        dtype: env.EMBEDDING_ONNX_DTYPE,
        batchSize: env.EMBEDDING_ONNX_BATCH_SIZE,
        queryPrefix: env.EMBEDDING_ONNX_QUERY_PREFIX,
        documentPrefix: env.EMBEDDING_ONNX_DOCUMENT_PREFIX,
      };
    }
  }

  const ids = [USE_LITE_MODEL_ID, env.EMBEDDING_OPENAI_MODEL, env.EMBEDDING_ONNX_MODEL].filter((id) => id !== undefined);
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (repeated.length > 0) {
    problems.push(`EMBEDDING_*_MODEL: model id ${repeated.join(', ')} is used twice; chunks must name one model unambiguously`);
  }
  if (!ids.includes(env.EMBEDDING_DEFAULT_MODEL)) {
    problems.push(`EMBEDDING_DEFAULT_MODEL: "${env.EMBEDDING_DEFAULT_MODEL}" is not a configured model (configured: ${ids.join(', ')})`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/** For processes that read only embedding settings; apps fold `embeddingEnvSchema` into their own. */
export function loadEmbeddingSettings(env: NodeJS.ProcessEnv = process.env): EmbeddingSettings {
  return embeddingSettings(loadConfig(embeddingEnvSchema, env));
}
