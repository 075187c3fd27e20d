import { z } from 'zod';

/**
 * The retrieval configuration an eval run measures: everything SearchService takes except the query and
 * the reader (a run searches as the user who started it).
 */
export const runConfigSchema = z
  .object({
    mode: z.enum(['dense', 'lexical', 'hybrid']).default('hybrid'),
    /** Collections to search; every collection of the tenant when omitted. */
    collectionIds: z.array(z.uuid()).min(1).max(50).optional(),
    /** Results per query; 100 so recall@100 means what it says. */
    topK: z.number().int().min(1).max(100).default(100),
    /**
     * Fusion overrides on the deployment's defaults (`fusionDefaults`, chosen by the tuning benchmark); a run
     * measures exactly this configuration, not whatever tenant or collection settings hold at the time.
     */
    fusion: z
      .object({
        method: z.enum(['rrf', 'weighted']).optional(),
        normalisation: z.enum(['minmax', 'zscore']).optional(),
        weights: z.object({ lexical: z.number().min(0).max(100), dense: z.number().min(0).max(100) }).strict().optional(),
        rrfK: z.number().int().min(1).max(1000).optional(),
        /** Candidates each retriever contributes before fusion: one number for both, or per retriever. */
        candidates: z
          .union([z.number().int().min(1).max(1000), z.object({ lexical: z.number().int().min(1).max(1000), dense: z.number().int().min(1).max(1000) }).strict()])
          .optional(),
      })
      .strict()
      .default({}),
    /** Rerank the fused candidates with the deployment's default reranker (or `rerankProvider`). */
    rerank: z.boolean().default(false),
    rerankProvider: z.string().min(1).max(100).optional(),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;

/** Quality metrics the gate may check (latency drifts with the machine and is reported, not gated). */
export const gateMetrics = ['ndcgAt10', 'recallAt5', 'recallAt20', 'recallAt100', 'mrrAt10'] as const;
export type GateMetric = (typeof gateMetrics)[number];
export const defaultGateMargin = 0.02;
