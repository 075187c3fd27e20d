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

export interface FusionParams {
  method: FusionMethod;
  /** Weight per list name (both methods); missing names weigh 1. */
  weights: Record<string, number>;
  /** RRF's k: larger flattens the advantage of the very top ranks. */
  rrfK: number;
}

/**
 * Reciprocal rank fusion (score = Σ w / (k + rank)) or weighted score fusion (min-max normalised scores,
 * weighted sum). RRF needs no score calibration; weighted fusion keeps how decisive each score was.
 * Ties are broken by chunk id so results are deterministic.
 */
export function fuse(lists: Record<string, readonly Candidate[]>, params: FusionParams): FusedCandidate[] {
  const fused = new Map<string, FusedCandidate>();
  for (const [name, list] of Object.entries(lists)) {
    const weight = params.weights[name] ?? 1;
    const normalised = params.method === 'weighted' ? minMax(list.map((candidate) => candidate.score)) : [];
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
  return [...fused.values()].sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1));
}

function minMax(scores: readonly number[]): number[] {
  if (scores.length === 0) return [];
  const max = Math.max(...scores);
  const min = Math.min(...scores);
  // A single candidate, or all equal: each is as good as the list's best.
  if (max === min) return scores.map(() => 1);
  return scores.map((score) => (score - min) / (max - min));
}
