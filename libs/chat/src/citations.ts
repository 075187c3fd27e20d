/** A passage the answer may cite, with where it came from. */
export interface CitablePassage {
  index: number;
  chunkId: string;
  documentId: string;
  documentName: string;
  documentTitle: string;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
}

export type Citation = CitablePassage;

export interface ParsedCitations {
  /** Passages cited, in order of first citation, each once. */
  citations: Citation[];
  /** Markers that pointed at no passage given to the model (e.g. [7] with five passages); removed from the text. */
  dropped: number;
  /** The answer with dropped markers removed. */
  text: string;
}

const marker = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/** Maps every [n] (or [n, m]) in an answer to its passage; markers that match nothing are dropped and counted. */
export function parseCitations(answer: string, passages: readonly CitablePassage[]): ParsedCitations {
  const byIndex = new Map(passages.map((passage) => [passage.index, passage]));
  const cited = new Map<number, Citation>();
  let dropped = 0;
  const text = answer.replace(marker, (_whole, list: string) => {
    const kept: number[] = [];
    for (const part of list.split(',')) {
      const index = Number(part.trim());
      const passage = byIndex.get(index);
      if (!passage) {
        dropped += 1;
        continue;
      }
      kept.push(index);
      if (!cited.has(index)) cited.set(index, { ...passage });
    }
    return kept.map((index) => `[${index}]`).join('');
  });
  return { citations: [...cited.values()], dropped, text };
}

/**
 * Finds citation markers as an answer streams in, so each valid citation can be announced as soon as it is
 * complete, even when a marker is split across deltas.
 */
export class StreamingCitationScanner {
  private buffer = '';
  private readonly seen = new Set<number>();

  constructor(private readonly passages: ReadonlyMap<number, CitablePassage>) {}

  /** New valid citations completed by this delta, each passage once. */
  push(delta: string): Citation[] {
    this.buffer += delta;
    const found: Citation[] = [];
    let consumed = 0;
    for (const match of this.buffer.matchAll(marker)) {
      consumed = (match.index ?? 0) + match[0].length;
      for (const part of (match[1] ?? '').split(',')) {
        const index = Number(part.trim());
        const passage = this.passages.get(index);
        if (passage && !this.seen.has(index)) {
          this.seen.add(index);
          found.push({ ...passage });
        }
      }
    }
    // Keep only what could still be the start of a marker.
    const rest = this.buffer.slice(consumed);
    const open = rest.lastIndexOf('[');
    this.buffer = open >= 0 && rest.length - open <= 16 ? rest.slice(open) : '';
    return found;
  }
}
