import type { DocumentStatus } from '../../hooks/use-documents';

/** The stages a file goes through, as the person uploading it sees them. */
export const STEPS = ['Upload', 'Parse', 'Chunk', 'Embed', 'Index'] as const;

const STEP_OF_STATUS: Record<DocumentStatus, number> = {
  queued: 1,
  fetching: 1,
  parsing: 1,
  chunking: 2,
  embedding: 3,
  indexing: 4,
  indexed: 5,
  failed: 5,
  superseded: 5,
};

const LABEL_OF_STATUS: Record<DocumentStatus, string> = {
  queued: 'Queued',
  fetching: 'Fetching',
  parsing: 'Parsing',
  chunking: 'Chunking',
  embedding: 'Embedding',
  indexing: 'Indexing',
  indexed: 'Indexed',
  failed: 'Failed',
  superseded: 'Superseded',
};

export function statusLabel(status: DocumentStatus): string {
  return LABEL_OF_STATUS[status];
}

/** Completed steps (0..5) for a document's status; `uploadFraction` counts while the file is still uploading. */
export function stepsDone(status: DocumentStatus | 'uploading', uploadFraction = 0): number {
  return status === 'uploading' ? uploadFraction : STEP_OF_STATUS[status];
}
