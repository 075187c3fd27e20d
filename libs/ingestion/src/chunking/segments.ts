import type { ElementSpan } from './canonical-text';
import { countTokens, tokenPieces } from './tokens';

/** How good a place the boundary before a segment is to cut: an element edge, a sentence or line end, a word. */
export const Boundary = { Element: 3, Sentence: 2, Word: 1 } as const;
export type Boundary = (typeof Boundary)[keyof typeof Boundary];

/** An unsplittable run of canonical text (no whitespace at either end, except code indentation). */
export interface Segment {
  start: number;
  end: number;
  tokens: number;
  /** The boundary just before this segment. */
  before: Boundary;
}

export interface SegmentLimits {
  maxTokens: number;
  /** Sentences longer than this are cut into word windows of about this size, so overlap can start mid-sentence. */
  windowTokens: number;
}

/**
 * Sentence ends: terminal punctuation (with closing quotes or brackets) before whitespace; CJK full stops,
 * which need no space; and line breaks. A plain pattern rather than Intl.Segmenter, whose rules move with
 * ICU versions: chunk boundaries must not change when Node is upgraded.
 */
const sentenceEnd = /[.!?…]+["'”’)\]]*(?=\s)|[。！？]+["'”’)\]」』]*|\n/g;

/** Cuts one element into segments: sentences (or code lines), then word windows for long ones. */
export function elementSegments(text: string, span: ElementSpan, limits: SegmentLimits): Segment[] {
  const { kind } = span.element;
  const whole = countTokens(text.slice(span.start, span.end));
  let segments: Segment[];
  if ((kind === 'table' || kind === 'code') && whole <= limits.maxTokens) {
    // Tables and code stay whole whenever they fit.
    segments = [{ start: span.start, end: span.end, tokens: whole, before: Boundary.Element }];
  } else if (kind === 'table' || kind === 'code') {
    segments = lineSpans(text, span.start, span.end).flatMap(([start, end]) => windows(text, start, end, limits.maxTokens, limits));
  } else {
    segments = sentenceSpans(text, span.start, span.end).flatMap(([start, end]) => windows(text, start, end, limits.windowTokens, limits));
  }
  const first = segments[0];
  if (first) first.before = Boundary.Element;
  return segments;
}

/** Non-blank lines, keeping indentation (it matters in code) but not trailing spaces. */
export function lineSpans(text: string, start: number, end: number): [number, number][] {
  const spans: [number, number][] = [];
  let lineStart = start;
  while (lineStart <= end) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 || newline > end ? end : newline;
    const trimmedEnd = lineStart + text.slice(lineStart, lineEnd).trimEnd().length;
    if (trimmedEnd > lineStart) spans.push([lineStart, trimmedEnd]);
    lineStart = lineEnd + 1;
  }
  return spans;
}

function sentenceSpans(text: string, start: number, end: number): [number, number][] {
  const slice = text.slice(start, end);
  const cuts = [0];
  for (const match of slice.matchAll(sentenceEnd)) cuts.push(match.index + match[0].length);
  cuts.push(slice.length);
  const spans: [number, number][] = [];
  for (let index = 0; index + 1 < cuts.length; index++) {
    const span = trimmed(text, start + (cuts[index] ?? 0), start + (cuts[index + 1] ?? 0));
    if (span) spans.push(span);
  }
  return spans;
}

/**
 * A sentence (or line) as one segment if it is at most `size` tokens, else word windows of about `size`
 * tokens cut at the tokenizer's pre-token boundaries. Every segment ends up at most maxTokens.
 */
function windows(text: string, start: number, end: number, size: number, limits: SegmentLimits): Segment[] {
  const tokens = countTokens(text.slice(start, end));
  if (tokens <= size) return [{ start, end, tokens, before: Boundary.Sentence }];
  const spans: [number, number][] = [];
  let windowStart = start;
  let windowTokens = 0;
  // The last place inside the window where a word begins, and the window's tokens before it.
  let wordStart = -1;
  let tokensBeforeWord = 0;
  for (const piece of tokenPieces(text.slice(start, end))) {
    const pieceStart = start + piece.start;
    const startsWord = /\s/.test(text[pieceStart] ?? '') || /\s/.test(text[pieceStart - 1] ?? '');
    if (windowTokens > 0 && windowTokens + piece.tokens > size) {
      // Cut between words if the window has a word start; split a word only when it alone fills the window.
      const cut = startsWord || wordStart <= windowStart ? pieceStart : wordStart;
      spans.push([windowStart, cut]);
      windowTokens = cut === pieceStart ? 0 : windowTokens - tokensBeforeWord;
      windowStart = cut;
      wordStart = -1;
    }
    if (startsWord) {
      wordStart = pieceStart;
      tokensBeforeWord = windowTokens;
    }
    windowTokens += piece.tokens;
  }
  spans.push([windowStart, end]);
  const segments: Segment[] = [];
  for (const [spanStart, spanEnd] of spans) {
    const span = trimmed(text, spanStart, spanEnd);
    if (span) segments.push(...fitted(text, span[0], span[1], limits.maxTokens));
  }
  segments.forEach((segment, index) => (segment.before = index === 0 ? Boundary.Sentence : Boundary.Word));
  return segments;
}

/** Halves a span (at a code point boundary) until each part fits; only a single giant "word" needs this. */
function fitted(text: string, start: number, end: number, maxTokens: number): Segment[] {
  const tokens = countTokens(text.slice(start, end));
  // Two code units are at most one code point, at most 4 tokens: always under the minimum maxTokens.
  if (tokens <= maxTokens || end - start <= 2) return [{ start, end, tokens, before: Boundary.Word }];
  let middle = start + Math.floor((end - start) / 2);
  if (isLowSurrogate(text.charCodeAt(middle))) middle++;
  return [...fitted(text, start, middle, maxTokens), ...fitted(text, middle, end, maxTokens)];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function trimmed(text: string, start: number, end: number): [number, number] | undefined {
  while (start < end && /\s/.test(text[start] ?? '')) start++;
  while (end > start && /\s/.test(text[end - 1] ?? '')) end--;
  return end > start ? [start, end] : undefined;
}
