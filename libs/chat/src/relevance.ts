import type { SearchResult } from '@quarry/retrieval';

/**
 * When retrieval counts as having found something. Fused (RRF) scores say nothing about relevance, so the
 * rule looks at the stage scores: a passage is relevant when BM25 matched it with at least `minLexicalScore`
 * or its cosine similarity to the question is at least `minDenseScore`. With no relevant passage the
 * answer is "no answer" and the model is not called.
 */
export interface RelevancePolicy {
  minLexicalScore: number;
  minDenseScore: number;
}

export const defaultRelevancePolicy: RelevancePolicy = { minLexicalScore: 1, minDenseScore: 0.45 };

export function isRelevant(result: Pick<SearchResult, 'scores'>, policy: RelevancePolicy): boolean {
  const { lexical, dense } = result.scores;
  return (lexical !== null && lexical >= policy.minLexicalScore) || (dense !== null && dense >= policy.minDenseScore);
}
