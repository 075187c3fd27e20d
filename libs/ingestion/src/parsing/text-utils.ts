/** Collapses runs of whitespace (including newlines) into single spaces and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Trims each line, drops empty lines, and collapses spaces inside lines; keeps the line structure. */
export function tidyLines(text: string): string {
  return text
    .split('\n')
    .map((line) => collapseWhitespace(line))
    .filter((line) => line.length > 0)
    .join('\n');
}

/**
 * Decodes text: UTF-16 when it starts with a UTF-16 byte-order mark (what Windows editors write as "Unicode"),
 * otherwise UTF-8. The BOM is dropped; malformed sequences become U+FFFD rather than failing.
 */
export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder(utf16Encoding(bytes) ?? 'utf-8').decode(bytes);
}

function utf16Encoding(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** Text never contains NUL (UTF-16 aside); binary data renamed to .txt would otherwise be indexed as noise. */
export function looksBinary(bytes: Uint8Array, limit = bytes.length): boolean {
  return utf16Encoding(bytes) === undefined && containsNul(bytes, limit);
}

/** Line endings from Windows and old Mac files become `\n`, so later splitting has one rule. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function containsNul(bytes: Uint8Array, limit = bytes.length): boolean {
  const end = Math.min(limit, bytes.length);
  for (let index = 0; index < end; index++) {
    if (bytes[index] === 0) return true;
  }
  return false;
}

/** A table row as one line; a literal pipe inside a cell is escaped so the columns stay readable. */
export function tableRow(cells: readonly string[]): string {
  return cells.map((cell) => collapseWhitespace(cell).replace(/\|/g, '\\|')).join(' | ');
}
