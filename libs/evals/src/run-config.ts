import { z } from 'zod';

/**
 * The retrieval configuration an eval run measures: everything SearchService takes except the query and
 * the reader (a run searches as the user who started it). Defaults are the search API's.
 */
export const runConfigSchema = z
  .object({
    mode: z.enum(['dense', 'lexical', 'hybrid']).default('hybrid'),
    /** Collections to search; every collection of the tenant when omitted. */
    collectionIds: z.array(z.uuid()).min(1).max(50).optional(),
    /** Results per query; 100 so recall@100 means what it says. */
    topK: z.number().int().min(1).max(100).default(100),
    fusion: z
      .object({
        method: z.enum(['rrf', 'weighted']).default('rrf'),
        weights: z
          .object({ lexical: z.number().min(0).max(100).default(1), dense: z.number().min(0).max(100).default(1) })
          .strict()
          .default({ lexical: 1, dense: 1 }),
        rrfK: z.number().int().min(1).max(1000).default(60),
        /** Candidates each retriever contributes before fusion (at least topK). */
        candidates: z.number().int().min(1).max(1000).default(100),
      })
      .strict()
      .default({ method: 'rrf', weights: { lexical: 1, dense: 1 }, rrfK: 60, candidates: 100 }),
    /** Recorded with the run; applied once a reranker is configured for search. */
    rerank: z.boolean().default(false),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;

/** Quality metrics the gate may check (latency drifts with the machine and is reported, not gated). */
export const gateMetrics = ['ndcgAt10', 'recallAt5', 'recallAt20', 'recallAt100', 'mrrAt10'] as const;
export type GateMetric = (typeof gateMetrics)[number];
export const defaultGateMargin = 0.02;
