import { z } from 'zod';

export const modelKinds = ['llama-cpp', 'openai-compatible', 'anthropic'] as const;
export type ModelKind = (typeof modelKinds)[number];

/** Tuning a tenant may set per model. Timeouts and attempts shape the client; the rest are chat defaults. */
export const modelParamsSchema = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxOutputTokens: z.number().int().min(1).max(32_768).optional(),
    maxAttempts: z.number().int().min(1).max(10).optional(),
    connectTimeoutMs: z.number().int().min(100).max(120_000).optional(),
    firstTokenTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    idleTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    totalTimeoutMs: z.number().int().min(1_000).max(1_800_000).optional(),
    /** OpenAI-compatible only: ask for usage in streams (turn off for servers that reject stream_options). */
    streamUsage: z.boolean().optional(),
  })
  .strict();
export type ModelParams = z.infer<typeof modelParamsSchema>;

/** One model as the API shows it: never the key, only whether one is stored. */
export interface TenantModelView {
  name: string;
  kind: ModelKind;
  baseUrl: string | null;
  model: string;
  contextWindow: number;
  params: ModelParams;
  hasApiKey: boolean;
}

/**
 * One model as an admin sets it. `apiKey`: a string stores (replaces) it, null removes it, absent keeps
 * the key already stored under the same name.
 */
export interface TenantModelInput {
  name: string;
  kind: ModelKind;
  baseUrl?: string | null | undefined;
  model: string;
  contextWindow: number;
  params?: ModelParams | undefined;
  apiKey?: string | null | undefined;
}

/** The tenant's models in answer order (primary first). `usingDefault`: none configured, the embedded model answers. */
export interface TenantModelSettings {
  models: TenantModelView[];
  usingDefault: boolean;
  defaultModel: string;
}
