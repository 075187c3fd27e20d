import { z } from 'zod';

/**
 * How hybrid search fuses and reranks, as a collection (or a request) may override it. Every field is optional:
 * what is unset falls back to the next level (request → collection → deployment defaults chosen by eval).
 * The bounds keep a request from asking for a runaway amount of work.
 */
export const fusionOverridesSchema = z
  .object({
    method: z.enum(['rrf', 'weighted']).optional(),
    normalisation: z.enum(['minmax', 'zscore']).optional(),
    rrfK: z.number().int().min(1).max(1000).optional(),
    weights: z
      .object({ lexical: z.number().min(0).max(10).optional(), dense: z.number().min(0).max(10).optional() })
      .strict()
      .optional(),
    candidates: z
      .object({ lexical: z.number().int().min(1).max(500).optional(), dense: z.number().int().min(1).max(500).optional() })
      .strict()
      .optional(),
  })
  .strict();

export const rerankOverridesSchema = z
  .object({
    /** Rerank when the request does not say. */
    enabled: z.boolean().optional(),
    /** A reranker the deployment configured ('learned', 'http', 'cross-encoder'). */
    provider: z.string().regex(/^[a-z0-9-]{1,40}$/).optional(),
    /** How many fused candidates the reranker sees. */
    candidates: z.number().int().min(1).max(200).optional(),
    /** Time budget; past it search answers in fused order and says so. */
    timeoutMs: z.number().int().min(10).max(30_000).optional(),
  })
  .strict();

export const searchSettingsSchema = z.object({ fusion: fusionOverridesSchema.optional(), rerank: rerankOverridesSchema.optional() }).strict();

export type FusionOverrides = z.infer<typeof fusionOverridesSchema>;
export type RerankOverrides = z.infer<typeof rerankOverridesSchema>;
export type SearchSettings = z.infer<typeof searchSettingsSchema>;
