import { decodeText, looksBinary, normalizeNewlines } from './text-utils';
import { ParseError, type ParsedDocument, type ParsedElement } from './types';

/** Plain text: paragraphs are separated by blank lines; line breaks inside a paragraph are kept. */
export function parsePlainText(bytes: Uint8Array, filename: string): Promise<ParsedDocument> {
  if (looksBinary(bytes)) {
    return Promise.reject(new ParseError('unsupported', `${filename} looks like binary data, not text`));
  }
  const elements: ParsedElement[] = normalizeNewlines(decodeText(bytes))
    .split(/\n[ \t\f\v]*\n/)
    .map((block) =>
      block
        .split('\n')
        .map((line) => line.trimEnd())
        .join('\n')
        .replace(/^\n+|\s+$/g, ''),
    )
    .filter((block) => block.trim().length > 0)
    .map((text) => ({ kind: 'paragraph', text, headingPath: [] }));
  return Promise.resolve({ elements });
}
