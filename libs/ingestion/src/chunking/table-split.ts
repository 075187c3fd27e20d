import type { ElementSpan } from './canonical-text';
import { lineSpans } from './segments';
import { countTokens } from './tokens';

/** A part of a table too large for one chunk. `prefix` is the header line repeated before continuation rows. */
export interface TablePart {
  start: number;
  end: number;
  prefix?: string;
}

/**
 * Splits an oversized table by rows. The first part starts with the header row as it stands in the text;
 * every later part gets the header repeated as a prefix, so each part is still a readable table. Returns
 * undefined when the header alone would take half a chunk or a single row cannot fit beside it; such a
 * table is cut like code instead (by lines, then words).
 */
export function splitTableByRows(text: string, span: ElementSpan, maxTokens: number): TablePart[] | undefined {
  const [header, ...rows] = lineSpans(text, span.start, span.end);
  if (!header || rows.length === 0) return undefined;
  const headerLine = text.slice(header[0], header[1]);
  const prefix = `${headerLine}\n`;
  const headerTokens = countTokens(prefix);
  if (headerTokens > maxTokens / 2) return undefined;
  const rowTokens = rows.map(([start, end]) => countTokens(text.slice(start, end)) + 1);
  if (rowTokens.some((tokens) => headerTokens + tokens > maxTokens)) return undefined;

  const group = (exact: boolean): TablePart[] => groupRows(text, header, rows, rowTokens, { prefix, headerTokens, maxTokens, exact });
  const fits = (parts: TablePart[]): boolean =>
    parts.every((part) => countTokens((part.prefix ?? '') + text.slice(part.start, part.end)) <= maxTokens);
  // Row counts add up to slightly more than the joined text in practice; re-group with exact counts only if not.
  const estimated = group(false);
  if (fits(estimated)) return estimated;
  const exact = group(true);
  return fits(exact) ? exact : undefined;
}

interface Grouping {
  prefix: string;
  headerTokens: number;
  maxTokens: number;
  exact: boolean;
}

function groupRows(
  text: string,
  header: [number, number],
  rows: readonly [number, number][],
  rowTokens: readonly number[],
  { prefix, headerTokens, maxTokens, exact }: Grouping,
): TablePart[] {
  const parts: TablePart[] = [];
  let partStart = header[0];
  let partEnd = header[1];
  let partPrefix: string | undefined;
  let tokens = headerTokens;
  rows.forEach(([start, end], index) => {
    const added = rowTokens[index] ?? 0;
    const fits = tokens + added <= maxTokens && (!exact || countTokens((partPrefix ?? '') + text.slice(partStart, end)) <= maxTokens);
    if (fits) {
      partEnd = end;
      tokens += added;
      return;
    }
    parts.push({ start: partStart, end: partEnd, ...(partPrefix ? { prefix: partPrefix } : {}) });
    partStart = start;
    partEnd = end;
    partPrefix = prefix;
    tokens = headerTokens + added;
  });
  parts.push({ start: partStart, end: partEnd, ...(partPrefix ? { prefix: partPrefix } : {}) });
  return parts;
}
