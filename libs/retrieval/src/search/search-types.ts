import type { FusionSettings } from '../fusion/fusion-settings';

export type SearchMode = 'dense' | 'lexical' | 'hybrid';

/** A collection as the caller resolved it (it exists, the reader may search it). */
export interface SearchCollection {
  id: string;
  language: string;
  embeddingModel: string;
}

export interface SearchFilters {
  documentIds?: string[];
  /** Equality on document metadata fields. */
  metadata?: Record<string, string | number | boolean>;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface SearchRequest {
  query: string;
  collections: SearchCollection[];
  topK: number;
  mode: SearchMode;
  filters: SearchFilters;
  /** The reader's ACL tokens; chunks are filtered by them inside every query. Empty reads nothing. */
  readerTokens: string[];
  fusion: FusionSettings;
  /** Rerank the fused top candidates; absent means no reranking was asked for. */
  rerank?: RerankRequest;
  debug: boolean;
}

export interface SearchResult {
  rank: number;
  chunkId: string;
  documentId: string;
  collectionId: string;
  documentName: string;
  documentTitle: string;
  text: string;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  scores: { lexical: number | null; dense: number | null; fused: number; rerank: number | null };
}

export interface RerankRequest {
  /** A configured reranker's name; unknown names are answered with applied: false and the reason. */
  provider: string;
  /** How many of the fused candidates are reranked (at least topK of them are asked for). */
  candidates: number;
  timeoutMs: number;
}

/** Whether reranking ran, and why not when it did not: search never silently skips it. */
export interface RerankOutcome {
  requested: boolean;
  applied: boolean;
  provider: string | null;
  reason: string | null;
  timingMs: number;
}

export interface StageTrace {
  stage: 'lexical' | 'dense' | 'fused' | 'rerank';
  timingMs: number;
  candidates: { chunkId: string; rank: number; score: number }[];
  notes?: string[];
}

export interface SearchResponse {
  results: SearchResult[];
  /** Why a result is empty or degraded (stop-word-only query, unknown metadata field, …). */
  notices: string[];
  timingsMs: { embed: number; lexical: number; dense: number; fuse: number; rerank: number; total: number };
  rerank: RerankOutcome;
  /** The fusion that ran (after collection and request overrides). */
  fusion: FusionSettings;
  trace?: StageTrace[];
}
