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
});
export type ChatEnv = z.infer<typeof chatEnvSchema>;

export interface ChatSettings {
  answerMaxTokens: number;
  temperature: number;
  topK: number;
  relevance: { minLexicalScore: number; minDenseScore: number };
  cacheTtlSeconds: number;
  rewriteTimeoutMs: number;
}

export function chatSettings(env: ChatEnv): ChatSettings {
  return {
    answerMaxTokens: env.CHAT_ANSWER_MAX_TOKENS,
    temperature: env.CHAT_TEMPERATURE,
    topK: env.CHAT_TOP_K,
    relevance: { minLexicalScore: env.CHAT_MIN_LEXICAL_SCORE, minDenseScore: env.CHAT_MIN_DENSE_SCORE },
    cacheTtlSeconds: env.CHAT_CACHE_TTL_SECONDS,
    rewriteTimeoutMs: env.CHAT_REWRITE_TIMEOUT_MS,
  };
}
