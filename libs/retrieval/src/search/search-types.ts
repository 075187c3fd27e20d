import type { FusionMethod } from '../fusion/fusion';

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
  fusion: { method: FusionMethod; weights: { lexical: number; dense: number }; rrfK: number; candidates: number };
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
  scores: { lexical: number | null; dense: number | null; fused: number };
}

export interface StageTrace {
  stage: 'lexical' | 'dense' | 'fused';
  timingMs: number;
  candidates: { chunkId: string; rank: number; score: number }[];
  notes?: string[];
}

export interface SearchResponse {
  results: SearchResult[];
  /** Why a result is empty or degraded (stop-word-only query, unknown metadata field, …). */
  notices: string[];
  timingsMs: { embed: number; lexical: number; dense: number; fuse: number; total: number };
  trace?: StageTrace[];
}
