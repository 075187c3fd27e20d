import { z } from 'zod';
import { CrossEncoderRerankProvider } from './cross-encoder.provider';
import { HttpRerankProvider } from './http-reranker.provider';
import type { TextRerankProvider } from './rerank-provider';

const variable = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * Reranking settings as environment variables (per deployment). The embedded learned ranker is always there;
 * the HTTP reranker exists when RERANK_HTTP_URL is set, the cross-encoder when RERANK_CROSS_ENCODER_DIR is.
 * Collections and requests choose among the configured ones by name.
 */
export const rerankEnvSchema = z.object({
  /** 'learned' (embedded), 'http' or 'cross-encoder'. */
  RERANK_DEFAULT_PROVIDER: variable(z.enum(['learned', 'http', 'cross-encoder']).default('learned')),
  /** Time budget of one search's reranking; past it the fused order is returned, with the reason. */
  RERANK_TIMEOUT_MS: variable(z.coerce.number().int().min(10).max(30_000).default(2_000)),
  /** Fused candidates handed to the reranker. */
  RERANK_CANDIDATES: variable(positiveInt(200).default(100)),

  RERANK_HTTP_URL: variable(z.string().url().refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL').optional()),
  RERANK_HTTP_PROTOCOL: variable(z.enum(['tei', 'cohere']).default('tei')),
  RERANK_HTTP_MODEL: variable(z.string().min(1).max(200).optional()),
  RERANK_HTTP_API_KEY: variable(z.string().optional()),
  RERANK_HTTP_TIMEOUT_MS: variable(z.coerce.number().int().min(10).max(600_000).default(5_000)),
  RERANK_HTTP_MAX_ATTEMPTS: variable(positiveInt(10).default(3)),

  RERANK_CROSS_ENCODER_DIR: variable(z.string().min(1).optional()),
  RERANK_CROSS_ENCODER_DEVICE: variable(z.enum(['cpu', 'cuda']).default('cpu')),
  RERANK_CROSS_ENCODER_DTYPE: variable(z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('fp32')),
  RERANK_CROSS_ENCODER_BATCH_SIZE: variable(positiveInt(512).default(16)),
});

export type RerankEnv = z.infer<typeof rerankEnvSchema>;

/** The text rerankers the variables configure (the learned ranker lives in @quarry/retrieval). */
export function textRerankProviders(env: RerankEnv): TextRerankProvider[] {
  const providers: TextRerankProvider[] = [];
  if (env.RERANK_HTTP_URL) {
    providers.push(
      new HttpRerankProvider({
        baseUrl: env.RERANK_HTTP_URL,
        protocol: env.RERANK_HTTP_PROTOCOL,
        model: env.RERANK_HTTP_MODEL,
        apiKey: env.RERANK_HTTP_API_KEY,
        timeoutMs: env.RERANK_HTTP_TIMEOUT_MS,
        maxAttempts: env.RERANK_HTTP_MAX_ATTEMPTS,
      }),
    );
  }
  if (env.RERANK_CROSS_ENCODER_DIR) {
    providers.push(
      new CrossEncoderRerankProvider({
        modelDir: env.RERANK_CROSS_ENCODER_DIR,
        device: env.RERANK_CROSS_ENCODER_DEVICE,
        dtype: env.RERANK_CROSS_ENCODER_DTYPE,
        batchSize: env.RERANK_CROSS_ENCODER_BATCH_SIZE,
      }),
    );
  }
  const configured = new Set(['learned', ...providers.map((provider) => provider.name)]);
  if (!configured.has(env.RERANK_DEFAULT_PROVIDER)) {
    throw new Error(`RERANK_DEFAULT_PROVIDER=${env.RERANK_DEFAULT_PROVIDER} is not configured (set RERANK_HTTP_URL or RERANK_CROSS_ENCODER_DIR)`);
  }
  return providers;
}
