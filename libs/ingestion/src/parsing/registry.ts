import { parseCsv } from './csv-parser';
import { parseDocx } from './docx-parser';
import { parseHtml } from './html-parser';
import { parseMarkdown } from './markdown-parser';
import { parsePdf } from './pdf-parser';
import { looksBinary } from './text-utils';
import { parsePlainText } from './text-parser';
import { ParseError, type FormatParser, type ParseInput, type ParsedDocument } from './types';

export const documentFormats = ['pdf', 'docx', 'html', 'markdown', 'text', 'csv'] as const;
export type DocumentFormat = (typeof documentFormats)[number];

export const formatParsers: Readonly<Record<DocumentFormat, FormatParser>> = {
  pdf: parsePdf,
  docx: parseDocx,
  html: parseHtml,
  markdown: parseMarkdown,
  text: parsePlainText,
  csv: parseCsv,
};

const docxMime = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

const byExtension: Readonly<Record<string, DocumentFormat>> = {
  pdf: 'pdf',
  docx: 'docx',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  txt: 'text',
  text: 'text',
  log: 'text',
  csv: 'csv',
  tsv: 'csv',
};

const byMime: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  [docxMime]: 'docx',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'csv',
};

/** Signatures of binary formats we do not read; a text extension or MIME type does not make them text. */
const foreignSignatures: readonly { name: string; bytes: readonly number[] }[] = [
  { name: 'PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'gzip archive', bytes: [0x1f, 0x8b] },
  { name: 'ELF executable', bytes: [0x7f, 0x45, 0x4c, 0x46] },
];

const pdfSignature = [0x25, 0x50, 0x44, 0x46, 0x2d];
const zipSignature = [0x50, 0x4b, 0x03, 0x04];
const oleSignature = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/**
 * Decides which built-in parser reads a file. The bytes win where they are unambiguous (a PDF header,
 * a zip, a known binary signature); otherwise the extension, then the declared MIME type, then a sniff.
 * A declared type is a hint from the uploader, not proof; the parser reports 'corrupt' if it was wrong.
 */
export function detectFormat(filename: string, declaredMime: string | undefined, firstBytes: Uint8Array): DocumentFormat {
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  const mime = declaredMime?.split(';')[0]?.trim().toLowerCase();
  const claimed = (extension ? byExtension[extension] : undefined) ?? (mime ? byMime[mime] : undefined);

  if (startsWith(firstBytes, pdfSignature) || ((claimed === undefined || claimed === 'pdf') && hasPdfHeader(firstBytes))) {
    return 'pdf';
  }
  if (startsWith(firstBytes, zipSignature) || startsWith(firstBytes, oleSignature)) {
    // Zip and OLE containers are DOCX only when named so; the DOCX parser tells encrypted from legacy .doc.
    if (claimed === 'docx') return 'docx';
    throw new ParseError('unsupported', `${filename}: archives and Office formats other than DOCX are not supported`);
  }
  const foreign = foreignSignatures.find((signature) => startsWith(firstBytes, signature.bytes));
  if (foreign && claimed !== 'pdf' && claimed !== 'docx') {
    throw new ParseError('unsupported', `${filename} is a ${foreign.name}, which is not supported`);
  }
  if (claimed === 'pdf' || claimed === 'docx') return claimed;
  if (looksBinary(firstBytes)) throw new ParseError('unsupported', `${filename} looks like binary data, not text`);
  if (claimed) return claimed;
  // Any other text/* type (source code, config files) is still text.
  if (mime?.startsWith('text/')) return 'text';
  if (mime === undefined || mime === '' || mime === 'application/octet-stream') {
    return looksLikeHtml(firstBytes) ? 'html' : 'text';
  }
  throw new ParseError('unsupported', `${filename}: unsupported file type${mime ? ` ${mime}` : ''}`);
}

/** Detects the format, runs its parser, and refuses a document with no text at all. */
export async function parseWithBuiltIns(input: ParseInput): Promise<ParsedDocument> {
  if (input.bytes.length === 0) throw new ParseError('empty', `${input.filename} is empty`);
  const format = detectFormat(input.filename, input.mimeType, input.bytes.subarray(0, 4096));
  const document = await formatParsers[format](input.bytes, input.filename);
  if (document.elements.length === 0) {
    const hint = format === 'pdf' ? ' (a scanned PDF needs OCR)' : '';
    throw new ParseError('empty', `${input.filename} contains no extractable text${hint}`);
  }
  return document;
}

/** PDF readers accept the header anywhere in the first kilobyte, and so do we for files that may be PDFs. */
function hasPdfHeader(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).includes('%PDF-');
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString('latin1').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || /^<\?xml[^>]*>\s*<html/.test(head);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}
