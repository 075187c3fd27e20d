import { createHash } from 'node:crypto';

/** A chunk as planned by the chunk stage and stored between stages. */
export interface PlannedChunk {
  ordinal: number;
  text: string;
  contentHash: string;
  tokenCount: number;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  charStart: number;
  charEnd: number;
}

/** The cache key of a chunk's embedding: its exact text. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
