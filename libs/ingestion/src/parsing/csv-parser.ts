import { parse } from 'csv-parse/sync';
import { decodeText, looksBinary, tableRow } from './text-utils';
import { ParseError, type ParsedDocument, type ParsedElement } from './types';

/** Rows per table element: small enough to embed as a unit, large enough to keep related rows together. */
export const csvRowsPerElement = 50;

const candidateDelimiters = [',', ';', '\t', '|'] as const;

/**
 * CSV/TSV: the first row is the header. Each row becomes `col: value; col: value` (empty values left out),
 * so a row read alone still says what its numbers mean; rows are grouped into table elements whose first
 * line repeats the header.
 */
export function parseCsv(bytes: Uint8Array, filename: string): Promise<ParsedDocument> {
  if (looksBinary(bytes)) {
    return Promise.reject(new ParseError('unsupported', `${filename} looks like binary data, not CSV`));
  }
  const source = decodeText(bytes);
  const elements: ParsedElement[] = [];
  let columns: string[] | undefined;
  let headerLine = '';
  let group: string[] = [];
  const flush = (): void => {
    if (group.length > 0) elements.push({ kind: 'table', text: [headerLine, ...group].join('\n'), headingPath: [] });
    group = [];
  };
  try {
    parse(source, {
      delimiter: sniffDelimiter(source),
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      // Rows are rendered as they are read and never collected, so memory follows the output, not twice it.
      on_record: (record: string[]) => {
        if (!columns) {
          columns = columnNames(record);
          headerLine = tableRow(columns);
          return null;
        }
        const line = rowLine(columns, record);
        if (line.length > 0) group.push(line);
        if (group.length >= csvRowsPerElement) flush();
        return null;
      },
    });
  } catch (error) {
    return Promise.reject(new ParseError('corrupt', `${filename} is not valid CSV`, { cause: error }));
  }
  flush();
  return Promise.resolve({ elements });
}

/** The candidate that splits the first line into the most fields (quoted text is ignored). */
function sniffDelimiter(source: string): string {
  const firstLine = (source.split('\n', 1)[0] ?? '').replace(/"[^"]*"/g, '');
  let best: string = ',';
  let bestCount = 0;
  for (const delimiter of candidateDelimiters) {
    const count = firstLine.split(delimiter).length - 1;
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}

/** Blank or repeated header cells get positional names (as do cells beyond the header, in rowLine). */
function columnNames(header: readonly string[]): string[] {
  const seen = new Set<string>();
  return header.map((_, index) => {
    const name = header[index]?.trim() ?? '';
    const unique = name.length > 0 && !seen.has(name) ? name : `column ${index + 1}`;
    seen.add(unique);
    return unique;
  });
}

function rowLine(columns: readonly string[], row: readonly string[]): string {
  return row
    .map((value, index) => ({ name: columns[index] ?? `column ${index + 1}`, value: value.replace(/\s+/g, ' ').trim() }))
    .filter((cell) => cell.value.length > 0)
    .map((cell) => `${cell.name}: ${cell.value}`)
    .join('; ');
}
