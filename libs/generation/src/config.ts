import { secretsKeySchema } from '@quarry/core';
import { z } from 'zod';
import type { LlamaCppConfig } from './llama-cpp.provider';

/** `VAR=` in a compose file or Helm values means "not set". */
const variable = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Generation settings as environment variables; apps fold them in with `.extend(generationEnvSchema.shape)`.
 * The embedded model is the default for every tenant that configured none.
 */
export const generationEnvSchema = z.object({
  /** Seals tenants' provider API keys (AES-256-GCM). 32 bytes, base64. */
  SECRETS_KEY: secretsKeySchema,
  /** A GGUF file to serve instead of the bundled TinyLlama. */
  GENERATION_LLAMA_MODEL_PATH: variable(z.string().min(1).optional()),
  /** Name recorded in traces and usage for the embedded model (defaults to the bundled model's id). */
  GENERATION_LLAMA_MODEL_NAME: variable(z.string().min(1).max(200).optional()),
  /** Where the bundled model is assembled from its npm parts. */
  GENERATION_LLAMA_CACHE_DIR: variable(z.string().min(1).default('.quarry/models')),
  /** false on CPU machines; auto or cuda on GPU nodes. */
  GENERATION_LLAMA_GPU: variable(z.enum(['false', 'auto', 'cuda', 'vulkan', 'metal']).default('false')),
  GENERATION_LLAMA_THREADS: variable(int(1, 256).default(2)),
  /** Generations at once; more wait in a queue. */
  GENERATION_LLAMA_CONCURRENCY: variable(int(1, 64).default(2)),
  GENERATION_LLAMA_CONTEXT_SIZE: variable(int(256, 131_072).default(2048)),
  GENERATION_LLAMA_QUEUE_TIMEOUT_MS: variable(int(100, 600_000).default(60_000)),
  GENERATION_LLAMA_REPEAT_PENALTY: variable(z.coerce.number().min(1).max(2).default(1.1)),
  /** A tenant's model with no text this long falls back to the next one (unset: only errors fall back). */
  GENERATION_FALLBACK_FIRST_TOKEN_MS: variable(int(100, 600_000).optional()),
});

export type GenerationEnv = z.infer<typeof generationEnvSchema>;

export function embeddedModelConfig(env: GenerationEnv): LlamaCppConfig {
  return {
    modelPath: env.GENERATION_LLAMA_MODEL_PATH,
    model: env.GENERATION_LLAMA_MODEL_NAME,
    cacheDir: env.GENERATION_LLAMA_CACHE_DIR,
    gpu: env.GENERATION_LLAMA_GPU === 'false' ? false : env.GENERATION_LLAMA_GPU,
    threads: env.GENERATION_LLAMA_THREADS,
    concurrency: env.GENERATION_LLAMA_CONCURRENCY,
    contextSize: env.GENERATION_LLAMA_CONTEXT_SIZE,
    queueTimeoutMs: env.GENERATION_LLAMA_QUEUE_TIMEOUT_MS,
    repeatPenalty: env.GENERATION_LLAMA_REPEAT_PENALTY,
  };
}
