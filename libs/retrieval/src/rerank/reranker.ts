import type { TenantScope } from '@quarry/core';

/** A fused candidate as a reranker sees it. */
export interface RerankCandidate {
  chunkId: string;
  documentId: string;
  title: string;
  text: string;
  /** Its fused score (the order search would return without reranking). */
  fusedScore: number;
}

export interface RerankInput {
  scope: TenantScope;
  query: string;
  /** Text-search configuration of the searched collections (lexical features). */
  language: string;
  /** The query's embedding, when dense retrieval ran, and the model that made it (dense features). */
  queryVector?: { model: string; vector: readonly number[] } | undefined;
  candidates: readonly RerankCandidate[];
  /** Aborted when the time budget is spent; a reranker should stop its work then. */
  signal: AbortSignal;
}

/** Scores candidates for a query (higher is better), aligned with `input.candidates`. */
export interface Reranker {
  readonly name: string;
  rerank(input: RerankInput): Promise<number[]>;
}

/** The rerankers a deployment configured, by name. */
export class Rerankers {
  private readonly byName: Map<string, Reranker>;

  constructor(rerankers: readonly Reranker[], readonly defaultName: string) {
    this.byName = new Map(rerankers.map((reranker) => [reranker.name, reranker]));
    if (!this.byName.has(defaultName)) throw new Error(`default reranker ${defaultName} is not configured (have: ${this.names().join(', ')})`);
  }

  get(name: string): Reranker | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export type BudgetedRerank = { ok: true; scores: number[] } | { ok: false; reason: string };

/**
 * Runs a reranker within a time budget. A reranker that fails, times out, or answers with the wrong number
 * of scores yields a reason instead of scores, so search can fall back to the fused order and say why.
 */
export async function rerankWithinBudget(reranker: Reranker, input: Omit<RerankInput, 'signal'>, timeoutMs: number): Promise<BudgetedRerank> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<BudgetedRerank>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`reranking exceeded its ${timeoutMs} ms budget`));
      resolve({ ok: false, reason: `Reranker ${reranker.name} timed out after ${timeoutMs} ms; results are in fused order` });
    }, timeoutMs);
  });
  const run = reranker.rerank({ ...input, signal: controller.signal }).then(
    (scores): BudgetedRerank =>
      scores.length === input.candidates.length && scores.every(Number.isFinite)
        ? { ok: true, scores }
        : { ok: false, reason: `Reranker ${reranker.name} returned ${scores.length} scores for ${input.candidates.length} candidates; results are in fused order` },
    (error: unknown): BudgetedRerank => ({
      ok: false,
      reason: `Reranker ${reranker.name} failed (${error instanceof Error ? error.message : String(error)}); results are in fused order`,
    }),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
