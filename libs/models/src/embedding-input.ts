import { EmbeddingError, type EmbeddingPurpose } from './embedding-provider';

export interface InstructionPrefixes {
  /** Put in front of queries, e.g. 'query: ' (e5) or 'Represent this sentence for searching relevant passages: ' (bge). */
  queryPrefix?: string | undefined;
  /** Put in front of documents, e.g. 'passage: ' (e5). */
  documentPrefix?: string | undefined;
}

/** Refuses blank texts before any work: an empty chunk is a bug upstream, not something to embed. */
export function assertEmbeddable(model: string, texts: readonly string[]): void {
  const blank = texts.findIndex((text) => text.trim() === '');
  if (blank !== -1) {
    throw new EmbeddingError(`Text ${blank} of ${texts.length} is blank; there is nothing to embed`, {
      model,
      retryable: false,
    });
  }
}

export function withPrefix(texts: readonly string[], purpose: EmbeddingPurpose, prefixes: InstructionPrefixes): string[] {
  const prefix = (purpose === 'query' ? prefixes.queryPrefix : prefixes.documentPrefix) ?? '';
  return prefix === '' ? [...texts] : texts.map((text) => prefix + text);
}

export function inBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/** A rough count for servers that report no usage: about 4 characters per token for English text. */
export function estimateTokens(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
}
