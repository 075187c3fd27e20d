import { load } from 'cheerio';
import mammoth from 'mammoth';
import { elementsFromHtml } from './html-structure';
import { ParseError, type ParsedDocument } from './types';
import { assertZipWithinBudget } from './zip-budget';

const titleClass = 'docx-title';

/** Word's Title style is not in mammoth's defaults; without this it would become an ordinary paragraph. */
const styleMap = [`p[style-name='Title'] => h1.${titleClass}:fresh`, "p[style-name='Subtitle'] => p:fresh"];

/** Images are never indexed, so mammoth must not spend memory inlining them as data URIs. */
const dropImages = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));

const oleSignature = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/** DOCX via mammoth's HTML, then the HTML parser's structure: Heading 1–6 become headings, tables stay whole. */
export async function parseDocx(bytes: Uint8Array, filename: string): Promise<ParsedDocument> {
  if (startsWith(bytes, oleSignature)) throw oleContainerError(bytes, filename);
  assertZipWithinBudget(bytes, filename);
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      { styleMap, convertImage: dropImages, ignoreEmptyParagraphs: true },
    );
    html = result.value;
  } catch (error) {
    throw new ParseError('corrupt', `${filename} is not a readable DOCX file`, { cause: error });
  }
  const elements = elementsFromHtml(load(html), { titleClass });
  const title = elements.find((element) => element.kind === 'title')?.text;
  return { elements, ...(title ? { title } : {}) };
}

/**
 * A password-protected DOCX is not a zip but an OLE compound file holding an `EncryptedPackage` stream.
 * Any other OLE file with a .docx name is a legacy binary .doc, which we do not read.
 */
function oleContainerError(bytes: Uint8Array, filename: string): ParseError {
  const marker = Buffer.from('EncryptedPackage', 'utf16le');
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(marker)) {
    return new ParseError('encrypted', `${filename} is password-protected`);
  }
  return new ParseError('unsupported', `${filename} is a legacy Word (.doc) file, not DOCX`);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}
