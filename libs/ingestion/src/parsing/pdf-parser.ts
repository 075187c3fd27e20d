import { layoutElements, pageLines, type PdfLine, type PdfTextRun } from './pdf-layout';
import { ParseError, type ParsedDocument } from './types';

/** pdf.js is ESM-only; this import() stays a real dynamic import in our CommonJS output. Legacy build = the Node one. */
const importPdfJs = () => import('pdfjs-dist/legacy/build/pdf.mjs');

let pdfjs: ReturnType<typeof importPdfJs> | undefined;

/** Loaded once per worker thread. */
function loadPdfJs(): ReturnType<typeof importPdfJs> {
  pdfjs ??= importPdfJs();
  return pdfjs;
}

/** PDF via pdf.js's text layer: one pass per page, every element carries its page number. */
export async function parsePdf(bytes: Uint8Array, filename: string): Promise<ParsedDocument> {
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  const task = getDocument({
    // pdf.js may detach the buffer it is given; the caller keeps its own copy.
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: VerbosityLevel.ERRORS,
  });
  let document: Awaited<typeof task.promise>;
  try {
    document = await task.promise;
  } catch (error) {
    await task.destroy();
    throw classifyOpenError(error, filename);
  }
  try {
    const lines: PdfLine[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      for (const line of pageLines(content.items.flatMap((item) => ('str' in item ? [textRun(item)] : [])), number)) lines.push(line);
      page.cleanup();
    }
    const title = metadataTitle((await document.getMetadata()).info);
    return { elements: layoutElements(lines), pageCount: document.numPages, ...(title ? { title } : {}) };
  } catch (error) {
    throw new ParseError('corrupt', `${filename}: the PDF could not be read`, { cause: error });
  } finally {
    await document.destroy();
  }
}

function textRun(item: { str: string; transform: unknown[]; width: number; height: number; hasEOL: boolean }): PdfTextRun {
  const [a, b, c, d, x, y] = item.transform.map((value) => (typeof value === 'number' ? value : 0));
  // The font size is the vertical scale of the text matrix; rotated text still has a sensible size.
  const size = Math.hypot(c ?? 0, d ?? 0) || Math.hypot(a ?? 0, b ?? 0) || item.height;
  return { text: item.str, x: x ?? 0, y: y ?? 0, width: item.width, size, endsLine: item.hasEOL };
}

function metadataTitle(info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null || !('Title' in info)) return undefined;
  const title = typeof info.Title === 'string' ? info.Title.trim() : '';
  return title.length > 0 ? title : undefined;
}

function classifyOpenError(error: unknown, filename: string): ParseError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') {
    return new ParseError('encrypted', `${filename} is password-protected`, { cause: error });
  }
  return new ParseError('corrupt', `${filename} is not a readable PDF`, { cause: error });
}
