/**
 * A linear learning-to-rank model over per-query standardised features, and its trainer: coordinate ascent
 * that maximises mean nDCG@10 directly (Metzler & Croft 2007, as in RankLib). Pure math, no I/O.
 */

export interface LinearRankerModel {
  /** Feature names in the order of `weights`. */
  features: string[];
  weights: number[];
}

/** One training query: a feature row per candidate and the candidates' relevance gains. */
export interface TrainingQuery {
  rows: number[][];
  gains: number[];
  /** Relevant documents in total, including those the candidates missed (for the ideal DCG). */
  idealGains: number[];
}

/**
 * Standardises each feature column over one query's candidates (z-score). Scores of different queries are
 * never compared, and a feature that does not vary within the query (sd 0) contributes nothing.
 */
export function standardise(rows: readonly (readonly number[])[]): number[][] {
  if (rows.length === 0) return [];
  const width = rows[0]!.length;
  const out = rows.map(() => new Array<number>(width).fill(0));
  for (let column = 0; column < width; column++) {
    const values = rows.map((row) => row[column] ?? 0);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
    if (sd === 0) continue;
    values.forEach((value, index) => {
      out[index]![column] = (value - mean) / sd;
    });
  }
  return out;
}

export function linearScores(weights: readonly number[], standardised: readonly (readonly number[])[]): number[] {
  return standardised.map((row) => row.reduce((sum, value, index) => sum + value * (weights[index] ?? 0), 0));
}

/** nDCG@k of candidates ordered by score (ties keep input order). */
export function ndcgOfScores(scores: readonly number[], gains: readonly number[], idealGains: readonly number[], k: number): number {
  const ideal = [...idealGains].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
  if (idcg === 0) return 0;
  const order = scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score || a.index - b.index);
  let dcg = 0;
  for (let rank = 0; rank < Math.min(k, order.length); rank++) dcg += (gains[order[rank]!.index] ?? 0) / Math.log2(rank + 2);
  return dcg / idcg;
}

export function meanNdcg(weights: readonly number[], queries: readonly TrainingQuery[], k = 10): number {
  if (queries.length === 0) return 0;
  return queries.reduce((sum, query) => sum + ndcgOfScores(linearScores(weights, query.rows), query.gains, query.idealGains, k), 0) / queries.length;
}

export interface CoordinateAscentOptions {
  initial: number[];
  steps?: number[];
  maxRounds?: number;
  /** Smallest improvement of mean nDCG worth a change (guards against chasing noise). */
  tolerance?: number;
  k?: number;
}

/**
 * Coordinate ascent: for each feature in turn, tries moving its weight by each step in both directions and
 * keeps the best move when it improves mean nDCG@k by more than the tolerance; stops when a whole round
 * changes nothing. The weights are then scaled to unit L1 norm (ranking is scale-invariant).
 * Queries must already be standardised.
 */
export function coordinateAscent(queries: readonly TrainingQuery[], options: CoordinateAscentOptions): { weights: number[]; ndcg: number; rounds: number } {
  const steps = options.steps ?? [0.02, 0.05, 0.1, 0.2, 0.5, 1];
  const k = options.k ?? 10;
  const tolerance = options.tolerance ?? 1e-5;
  const weights = [...options.initial];
  let best = meanNdcg(weights, queries, k);
  let rounds = 0;
  for (; rounds < (options.maxRounds ?? 20); rounds++) {
    let changed = false;
    for (let feature = 0; feature < weights.length; feature++) {
      const start = weights[feature]!;
      let bestValue = start;
      for (const step of steps) {
        for (const direction of [1, -1]) {
          weights[feature] = start + direction * step;
          const ndcg = meanNdcg(weights, queries, k);
          if (ndcg > best + tolerance) {
            best = ndcg;
            bestValue = weights[feature]!;
          }
        }
      }
      weights[feature] = bestValue;
      if (bestValue !== start) changed = true;
    }
    if (!changed) break;
  }
  const norm = weights.reduce((sum, weight) => sum + Math.abs(weight), 0) || 1;
  return { weights: weights.map((weight) => weight / norm), ndcg: best, rounds };
}
