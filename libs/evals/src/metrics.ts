/** Graded relevance judgments of one query: document id → gain (BEIR uses 1 for relevant). */
export type Judgments = ReadonlyMap<string, number>;

/**
 * nDCG@k with the standard (Järvelin–Kekäläinen / trec_eval) gain: Σ rel_i / log2(i + 1) over the
 * ranking, divided by the same sum over the ideal ordering of all judged documents. Documents are
 * de-duplicated first: several chunks of one document count once, at the best rank.
 */
export function ndcgAtK(ranking: readonly string[], judgments: Judgments, k: number): number {
  const ideal = [...judgments.values()].filter((gain) => gain > 0).sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
  if (idcg === 0) return 0;
  const dcg = dedupe(ranking)
    .slice(0, k)
    .reduce((sum, id, index) => sum + (judgments.get(id) ?? 0) / Math.log2(index + 2), 0);
  return dcg / idcg;
}

/** Share of the relevant documents found in the top k. */
export function recallAtK(ranking: readonly string[], judgments: Judgments, k: number): number {
  const relevant = [...judgments.entries()].filter(([, gain]) => gain > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(dedupe(ranking).slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

/** Reciprocal rank of the first relevant document within the top k (0 if none). */
export function mrrAtK(ranking: readonly string[], judgments: Judgments, k: number): number {
  const index = dedupe(ranking)
    .slice(0, k)
    .findIndex((id) => (judgments.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

/** Nearest-rank percentile (p in 0..100) of a sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface QueryOutcome {
  queryId: string;
  ranking: string[];
  latencyMs: number;
}

export interface RunMetrics {
  queries: number;
  ndcgAt10: number;
  recallAt5: number;
  recallAt20: number;
  recallAt100: number;
  mrrAt10: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

/** Means over every judged query (a query with no outcome counts as 0, as trec_eval does with -c). */
export function summarize(outcomes: readonly QueryOutcome[], qrels: ReadonlyMap<string, Judgments>): RunMetrics {
  const byQuery = new Map(outcomes.map((outcome) => [outcome.queryId, outcome]));
  const ids = [...qrels.keys()];
  const mean = (metric: (ranking: string[], judgments: Judgments) => number) =>
    ids.length === 0 ? 0 : ids.reduce((sum, id) => sum + metric(byQuery.get(id)?.ranking ?? [], qrels.get(id)!), 0) / ids.length;
  const latencies = outcomes.map((outcome) => outcome.latencyMs);
  return {
    queries: ids.length,
    ndcgAt10: mean((ranking, judgments) => ndcgAtK(ranking, judgments, 10)),
    recallAt5: mean((ranking, judgments) => recallAtK(ranking, judgments, 5)),
    recallAt20: mean((ranking, judgments) => recallAtK(ranking, judgments, 20)),
    recallAt100: mean((ranking, judgments) => recallAtK(ranking, judgments, 100)),
    mrrAt10: mean((ranking, judgments) => mrrAtK(ranking, judgments, 10)),
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95),
  };
}

export interface GateResult {
  passed: boolean;
  failures: { metric: keyof RunMetrics; baseline: number; candidate: number; drop: number }[];
}

/**
 * The regression gate: a run fails when a quality metric drops more than `margin` (absolute) below the
 * baseline's. Latency is reported, not gated: timings on shared machines drift.
 */
export function regressionGate(baseline: RunMetrics, candidate: RunMetrics, margin: number, metrics: (keyof RunMetrics)[] = ['ndcgAt10', 'recallAt100', 'mrrAt10']): GateResult {
  const failures = metrics
    .map((metric) => ({ metric, baseline: baseline[metric], candidate: candidate[metric], drop: baseline[metric] - candidate[metric] }))
    .filter((entry) => entry.drop > margin);
  return { passed: failures.length === 0, failures };
}

function dedupe(ranking: readonly string[]): string[] {
  return [...new Set(ranking)];
}
