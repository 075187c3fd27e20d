import { HeadingTrail } from './heading-trail';
import type { ParsedElement, ParsedElementKind } from './types';

/** One positioned run of text as pdf.js reports it (PDF user space: y grows upwards). */
export interface PdfTextRun {
  text: string;
  x: number;
  y: number;
  width: number;
  /** Font size in points. */
  size: number;
  /** pdf.js saw a line break after this run. */
  endsLine: boolean;
}

export interface PdfLine {
  text: string;
  y: number;
  size: number;
  page: number;
}

/** How much larger than body text a short line must be to count as a heading. */
const headingScale = 1.15;
const maxHeadingLength = 150;
/** A vertical gap above ~1.6 lines is a paragraph break; normal leading is about 1.2. */
const paragraphGapScale = 1.6;
const bulletPattern = /^(?:[•·▪◦‣●○■□–-]\s|\d{1,3}[.)]\s|[a-z][.)]\s)/;

/** Joins a page's runs into lines: a new line starts at pdf.js's end-of-line mark or a baseline change. */
export function pageLines(runs: readonly PdfTextRun[], page: number): PdfLine[] {
  const lines: PdfLine[] = [];
  let parts: string[] = [];
  let y = 0;
  let endX = 0;
  let sizeChars = new Map<number, number>();
  const finish = (): void => {
    const text = parts.join('').replace(/\s+/g, ' ').trim();
    if (text.length > 0) lines.push({ text, y, size: dominantSize(sizeChars), page });
    parts = [];
    sizeChars = new Map();
  };
  for (const run of runs) {
    if (parts.length > 0 && Math.abs(run.y - y) > 0.5 * Math.max(run.size, 1)) finish();
    if (run.text.length > 0) {
      if (parts.length === 0) {
        y = run.y;
      } else if (run.x - endX > 0.15 * run.size && !/\s$/.test(parts.at(-1) ?? '') && !/^\s/.test(run.text)) {
        // pdf.js does not always emit the space between separately positioned words.
        parts.push(' ');
      }
      parts.push(run.text);
      endX = run.x + run.width;
      const size = Math.round(run.size * 2) / 2;
      sizeChars.set(size, (sizeChars.get(size) ?? 0) + run.text.length);
    }
    if (run.endsLine) finish();
  }
  finish();
  return lines;
}

/**
 * Turns lines into elements. Body text is the font size carrying the most characters; short lines set
 * clearly larger are headings, the largest size being level 1. Paragraphs break at wide vertical gaps,
 * size changes, bullets and page ends, so every element has exactly one page.
 */
export function layoutElements(lines: readonly PdfLine[]): ParsedElement[] {
  const bodySize = dominantSize(charsBySize(lines));
  const isHeading = (line: PdfLine): boolean =>
    line.size >= bodySize * headingScale && line.text.length <= maxHeadingLength && /\p{L}/u.test(line.text);
  const headingSizes = [...new Set(lines.filter(isHeading).map((line) => line.size))].sort((a, b) => b - a);
  const trail = new HeadingTrail();
  const elements: ParsedElement[] = [];
  let block: { kind: ParsedElementKind; lines: PdfLine[] } | undefined;

  const flush = (): void => {
    if (!block) return;
    const first = block.lines[0];
    const text = joinLines(block.lines.map((line) => line.text));
    if (first && text.length > 0) {
      if (block.kind === 'heading') {
        const level = Math.min(headingSizes.indexOf(first.size) + 1, 6);
        elements.push({ kind: 'heading', text, headingPath: trail.enter(level, text), page: first.page, level });
      } else {
        elements.push({ kind: block.kind, text, headingPath: trail.path(), page: first.page });
      }
    }
    block = undefined;
  };

  for (const line of lines) {
    const kind: ParsedElementKind = isHeading(line) ? 'heading' : bulletPattern.test(line.text) ? 'list_item' : 'paragraph';
    const previous = block?.lines.at(-1);
    const continues =
      block !== undefined &&
      previous !== undefined &&
      previous.page === line.page &&
      Math.abs(previous.size - line.size) < 1 &&
      previous.y - line.y > 0 &&
      previous.y - line.y <= previous.size * paragraphGapScale &&
      // A bullet always opens a new item; plain lines after it are that item's continuation.
      kind !== 'list_item' &&
      (kind === block.kind || (block.kind === 'list_item' && kind === 'paragraph'));
    if (!continues) {
      flush();
      block = { kind, lines: [] };
    }
    block?.lines.push(line);
  }
  flush();
  return elements;
}

/** Lines of one paragraph join with a space, except after a hyphen at the line end (kept, no space). */
function joinLines(texts: readonly string[]): string {
  return texts.reduce((joined, text) => (joined.length === 0 ? text : joined.endsWith('-') ? joined + text : `${joined} ${text}`), '');
}

function charsBySize(lines: readonly PdfLine[]): Map<number, number> {
  const chars = new Map<number, number>();
  for (const line of lines) chars.set(line.size, (chars.get(line.size) ?? 0) + line.text.length);
  return chars;
}

/** The size with the most characters; ties go to the smaller size, so the result never depends on order. */
function dominantSize(chars: ReadonlyMap<number, number>): number {
  let best = 0;
  let bestChars = -1;
  for (const [size, count] of chars) {
    if (count > bestChars || (count === bestChars && size < best)) {
      best = size;
      bestChars = count;
    }
  }
  return best;
}
