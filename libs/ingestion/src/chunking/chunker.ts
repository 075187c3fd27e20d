import type { ParsedDocument } from '../parsing/types';
import { canonicalText, elementSpans, type ElementSpan } from './canonical-text';
import { packSegments } from './packer';
import { elementSegments, type SegmentLimits } from './segments';
import { splitTableByRows } from './table-split';
import { countTokens } from './tokens';

export { canonicalText } from './canonical-text';

export interface ChunkOptions {
  /** Hard limit per chunk, in cl100k_base tokens. At least 8. */
  maxTokens: number;
  /** Tokens repeated from the end of a chunk at the start of the next when a section is split. At most maxTokens / 2. */
  overlapTokens: number;
}

export interface Chunk {
  /** 0-based position in the document. */
  ordinal: number;
  /**
   * Equal to canonicalText(doc).slice(charStart, charEnd), except for the continuation parts of a table
   * split by rows: those are the table's header line, a newline, then that slice.
   */
  text: string;
  tokenCount: number;
  /** The headings the chunk sits under; context for retrieval and display, never part of `text`. */
  headingPath: string[];
  pageStart?: number;
  pageEnd?: number;
  charStart: number;
  charEnd: number;
}

export const minChunkTokens = 8;

interface Draft {
  start: number;
  end: number;
  headingPath: string[];
  prefix?: string;
}

interface Section {
  headingPath: string[];
  spans: ElementSpan[];
  start: number;
  end: number;
}

/**
 * Splits a parsed document into chunks that follow its structure. Consecutive elements under one heading
 * path form a section; a section that fits is one chunk, and small neighbouring sections under the same
 * parent are merged while they fit. A larger section is split at paragraph, then sentence, then word
 * boundaries, with overlap. Tables and code are never split unless they alone exceed maxTokens (tables
 * then by rows, repeating the header; code by lines). Deterministic: the same document always gives the
 * same chunks, so unchanged text is never embedded twice.
 */
export function chunkDocument(doc: ParsedDocument, options: ChunkOptions): Chunk[] {
  const limits = validated(options);
  const text = canonicalText(doc);
  const spans = elementSpans(doc);
  const drafts: Draft[] = [];
  let pending: Draft | undefined;
  for (const section of sections(spans)) {
    const whole: Draft = { start: section.start, end: section.end, headingPath: section.headingPath };
    if (countTokens(text.slice(whole.start, whole.end)) > limits.maxTokens) {
      if (pending) drafts.push(pending);
      pending = undefined;
      // A loop, not push(...parts): one section (a whole CSV) can split into more parts than a call takes arguments.
      for (const part of splitSection(text, section, limits)) drafts.push(part);
      continue;
    }
    if (pending && mergeable(pending.headingPath, section.headingPath)) {
      const merged: Draft = { start: pending.start, end: whole.end, headingPath: commonPrefix(pending.headingPath, section.headingPath) };
      if (countTokens(text.slice(merged.start, merged.end)) <= limits.maxTokens) {
        pending = merged;
        continue;
      }
    }
    if (pending) drafts.push(pending);
    pending = whole;
  }
  if (pending) drafts.push(pending);
  return drafts.map((draft, ordinal) => toChunk(draft, ordinal, text, spans, limits.maxTokens));
}

function validated(options: ChunkOptions): ChunkOptions & SegmentLimits {
  const { maxTokens, overlapTokens } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < minChunkTokens) {
    throw new RangeError(`maxTokens must be an integer of at least ${minChunkTokens}, got ${maxTokens}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens > maxTokens / 2) {
    throw new RangeError(`overlapTokens must be an integer from 0 to maxTokens / 2, got ${overlapTokens}`);
  }
  // Word windows of half the overlap let an overlap start mid-sentence at word granularity.
  const windowTokens = overlapTokens > 0 ? Math.ceil(overlapTokens / 2) : maxTokens;
  return { maxTokens, overlapTokens, windowTokens };
}

/** Runs of consecutive non-blank elements with the same heading path. */
function sections(spans: readonly ElementSpan[]): Section[] {
  const result: Section[] = [];
  for (const span of spans) {
    if (span.element.text.trim().length === 0) continue;
    const current = result.at(-1);
    if (current && samePath(current.headingPath, span.element.headingPath)) {
      current.spans.push(span);
      current.end = span.end;
    } else {
      result.push({ headingPath: [...span.element.headingPath], spans: [span], start: span.start, end: span.end });
    }
  }
  return result;
}

/** Oversized tables become their own row-split chunks; everything around them is packed with overlap. */
function splitSection(text: string, section: Section, limits: ChunkOptions & SegmentLimits): Draft[] {
  const drafts: Draft[] = [];
  let run: ElementSpan[] = [];
  const flushRun = (): void => {
    const segments = run.flatMap((span) => elementSegments(text, span, limits));
    for (const span of packSegments(text, segments, limits)) drafts.push({ ...span, headingPath: section.headingPath });
    run = [];
  };
  for (const span of section.spans) {
    const parts =
      span.element.kind === 'table' && countTokens(text.slice(span.start, span.end)) > limits.maxTokens
        ? splitTableByRows(text, span, limits.maxTokens)
        : undefined;
    if (!parts) {
      run.push(span);
      continue;
    }
    flushRun();
    for (const part of parts) drafts.push({ ...part, headingPath: section.headingPath });
  }
  flushRun();
  return drafts;
}

/** A section may join the group before it if it lies inside the group's section or is its sibling. */
function mergeable(group: readonly string[], next: readonly string[]): boolean {
  if (startsWith(next, group)) return true;
  return group.length === next.length && startsWith(next, group.slice(0, -1));
}

function toChunk(draft: Draft, ordinal: number, text: string, spans: readonly ElementSpan[], maxTokens: number): Chunk {
  const chunkText = (draft.prefix ?? '') + text.slice(draft.start, draft.end);
  const tokenCount = countTokens(chunkText);
  if (tokenCount > maxTokens) {
    // Every path above checks real token counts; reaching this is a bug, and an oversized chunk must not be embedded.
    throw new Error(`chunker produced ${tokenCount} tokens for a ${maxTokens}-token limit (chunk ${ordinal})`);
  }
  const pages: number[] = [];
  for (let index = firstEndingAfter(spans, draft.start); index < spans.length; index++) {
    const span = spans[index];
    if (!span || span.start >= draft.end) break;
    if (span.element.page !== undefined) pages.push(span.element.page);
  }
  return {
    ordinal,
    text: chunkText,
    tokenCount,
    headingPath: [...draft.headingPath],
    ...(pages.length > 0 ? { pageStart: Math.min(...pages), pageEnd: Math.max(...pages) } : {}),
    charStart: draft.start,
    charEnd: draft.end,
  };
}

/** Binary search: the first element span that ends after `offset` (spans are sorted and disjoint). */
function firstEndingAfter(spans: readonly ElementSpan[], offset: number): number {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((spans[middle]?.end ?? 0) > offset) high = middle;
    else low = middle + 1;
  }
  return low;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((heading, index) => path[index] === heading);
}

function commonPrefix(a: readonly string[], b: readonly string[]): string[] {
  const prefix: string[] = [];
  for (let index = 0; index < Math.min(a.length, b.length) && a[index] === b[index]; index++) prefix.push(a[index] ?? '');
  return prefix;
}
