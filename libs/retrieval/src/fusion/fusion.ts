/** A ranked candidate from one retriever. */
export interface Candidate {
  chunkId: string;
  documentId: string;
  score: number;
}

export interface FusedCandidate {
  chunkId: string;
  documentId: string;
  score: number;
  /** 1-based rank in each input list, when the candidate was in it. */
  ranks: Record<string, number | undefined>;
  scores: Record<string, number | undefined>;
}

export type FusionMethod = 'rrf' | 'weighted';

/** How weighted fusion puts each list's scores on one scale before summing. */
export type ScoreNormalisation = 'minmax' | 'zscore';

export interface FusionParams {
  method: FusionMethod;
  /** Weight per list name (both methods); missing names weigh 1. */
  weights: Record<string, number>;
  /** RRF's k: larger flattens the advantage of the very top ranks. */
  rrfK: number;
  /** Weighted fusion only; min-max when unset. */
  normalisation?: ScoreNormalisation;
}

/**
 * Reciprocal rank fusion (score = Σ w / (k + rank)) or weighted score fusion (each list's scores normalised,
 * weighted sum). RRF needs no score calibration; weighted fusion keeps how decisive each score was.
 * In weighted fusion a candidate missing from a list gets that list's lowest normalised score (it ranked
 * below everything the list returned), which is 0 under min-max.
 * Ties are broken by chunk id so results are deterministic.
 */
export function fuse(lists: Record<string, readonly Candidate[]>, params: FusionParams): FusedCandidate[] {
  const fused = new Map<string, FusedCandidate>();
  const floors: [string, number][] = [];
  for (const [name, list] of Object.entries(lists)) {
    const weight = params.weights[name] ?? 1;
    const normalised = params.method === 'weighted' ? normalise(list.map((candidate) => candidate.score), params.normalisation ?? 'minmax') : [];
    if (params.method === 'weighted' && normalised.length > 0) floors.push([name, weight * Math.min(...normalised)]);
    list.forEach((candidate, index) => {
      let entry = fused.get(candidate.chunkId);
      if (!entry) {
        entry = { chunkId: candidate.chunkId, documentId: candidate.documentId, score: 0, ranks: {}, scores: {} };
        fused.set(candidate.chunkId, entry);
      }
      entry.ranks[name] = index + 1;
      entry.scores[name] = candidate.score;
      entry.score += params.method === 'rrf' ? weight / (params.rrfK + index + 1) : weight * (normalised[index] ?? 0);
    });
  }
  for (const entry of fused.values()) {
    for (const [name, floor] of floors) if (entry.ranks[name] === undefined) entry.score += floor;
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1));
}

export function normalise(scores: readonly number[], how: ScoreNormalisation): number[] {
  if (scores.length === 0) return [];
  if (how === 'zscore') {
    const mean = scores.reduce((sum, score) => sum + score, 0) / scores.length;
    const sd = Math.sqrt(scores.reduce((sum, score) => sum + (score - mean) ** 2, 0) / scores.length);
    // One candidate, or all equal: nothing sets them apart.
    return sd === 0 ? scores.map(() => 0) : scores.map((score) => (score - mean) / sd);
  }
  const max = Math.max(...scores);
  const min = Math.min(...scores);
  // A single candidate, or all equal: each is as good as the list's best.
  if (max === min) return scores.map(() => 1);
  return scores.map((score) => (score - min) / (max - min));
}
