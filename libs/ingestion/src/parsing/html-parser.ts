import { loadBuffer } from 'cheerio';
import { elementsFromHtml, htmlTitle } from './html-structure';
import type { ParsedDocument } from './types';

/** HTML: the character set is sniffed from the BOM or `<meta charset>`, as a browser would. */
export function parseHtml(bytes: Uint8Array, _filename: string): Promise<ParsedDocument> {
  const $ = loadBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const title = htmlTitle($);
  return Promise.resolve({ elements: elementsFromHtml($), ...(title ? { title } : {}) });
}
