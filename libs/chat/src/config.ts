import type { WebhookOptions } from './webhook';
import { z } from 'zod';

/** Chat settings from the environment (the API validates them at boot with the rest). */
export const chatEnvSchema = z.object({
  /** Upper bound on answer tokens; the rest of the model's window holds the prompt and passages. */
  CHAT_ANSWER_MAX_TOKENS: z.coerce.number().int().min(16).max(8_192).default(512),
  CHAT_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.1),
  /** Passages retrieved per question before packing to the window. */
  CHAT_TOP_K: z.coerce.number().int().min(1).max(50).default(8),
  /** Relevance floor: BM25 score or cosine similarity a passage needs for the question to count as answerable. */
  CHAT_MIN_LEXICAL_SCORE: z.coerce.number().min(0).default(1),
  CHAT_MIN_DENSE_SCORE: z.coerce.number().min(-1).max(1).default(0.45),
  CHAT_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
  /** Follow-up rewriting by the model gives up after this long and falls back to the previous question plus the follow-up. */
  CHAT_REWRITE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8_000),
  CHAT_HEARTBEAT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Server key batch-job webhook secrets are derived from (HMAC); unset: webhooks are refused. */
  CHAT_WEBHOOK_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Deliver webhooks to loopback/private addresses (tests, on-premise receivers). */
  CHAT_WEBHOOK_ALLOW_PRIVATE_HOSTS: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default(false),
  CHAT_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  CHAT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
});
export type ChatEnv = z.infer<typeof chatEnvSchema>;

export interface BatchSettings {
  /** Server key webhook secrets are derived from; unset: webhooks are refused. */
  signingKey: string | undefined;
  webhook: WebhookOptions;
}

export interface ChatSettings {
  answerMaxTokens: number;
  temperature: number;
  topK: number;
  relevance: { minLexicalScore: number; minDenseScore: number };
  cacheTtlSeconds: number;
  rewriteTimeoutMs: number;
  batch: BatchSettings;
}

export function chatSettings(env: ChatEnv): ChatSettings {
  return {
    answerMaxTokens: env.CHAT_ANSWER_MAX_TOKENS,
    temperature: env.CHAT_TEMPERATURE,
    topK: env.CHAT_TOP_K,
    relevance: { minLexicalScore: env.CHAT_MIN_LEXICAL_SCORE, minDenseScore: env.CHAT_MIN_DENSE_SCORE },
    cacheTtlSeconds: env.CHAT_CACHE_TTL_SECONDS,
    rewriteTimeoutMs: env.CHAT_REWRITE_TIMEOUT_MS,
    batch: {
      signingKey: env.CHAT_WEBHOOK_SIGNING_KEY,
      webhook: { allowPrivateHosts: env.CHAT_WEBHOOK_ALLOW_PRIVATE_HOSTS, attempts: env.CHAT_WEBHOOK_ATTEMPTS, timeoutMs: env.CHAT_WEBHOOK_TIMEOUT_MS, backoffMs: 1_000 },
    },
  };
}
