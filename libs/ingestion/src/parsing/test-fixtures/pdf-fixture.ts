import { createHash } from 'node:crypto';

/** A paragraph on a test page: one or more lines set in Helvetica at the given size (default 11 pt). */
export interface PdfBlock {
  lines: string[];
  size?: number;
}

export interface PdfFixtureOptions {
  title?: string;
  /** Protect the file with this user password (standard security handler, RC4 40-bit, revision 2). */
  userPassword?: string;
}

/**
 * Writes a small but valid PDF with a real text layer: one content stream per page, objects and the
 * cross-reference table with byte offsets computed here. Text is positioned the way word processors do:
 * lines 1.2 × size apart, paragraphs separated by an extra gap.
 */
export function buildPdf(pages: readonly PdfBlock[][], options: PdfFixtureOptions = {}): Buffer {
  const fontId = 3 + pages.length * 2;
  const infoId = fontId + 1;
  const encryptId = infoId + 1;
  const fileId = createHash('md5').update(JSON.stringify(pages)).digest();
  const security = options.userPassword === undefined ? undefined : standardSecurity(options.userPassword, fileId);

  const objects: string[] = [];
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  const kids = pages.map((_, index) => `${3 + index * 2} 0 R`).join(' ');
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  pages.forEach((blocks, index) => {
    const contentId = 4 + index * 2;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${fontId} 0 R >> >> /Contents ${contentId} 0 R >>`,
    );
    let stream: Buffer = Buffer.from(contentStream(blocks), 'latin1');
    if (security) stream = rc4(objectKey(security.fileKey, contentId), stream);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream.toString('latin1')}\nendstream`);
  });
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  objects.push(options.title && !security ? `<< /Title (${escapePdfString(options.title)}) >>` : '<< >>');
  if (security) {
    objects.push(`<< /Filter /Standard /V 1 /R 2 /O <${security.owner.toString('hex')}> /U <${security.user.toString('hex')}> /P -44 >>`);
  }

  let output = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(output, 'latin1'));
    output += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(output, 'latin1');
  output += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  output += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  const encrypt = security ? ` /Encrypt ${encryptId} 0 R` : '';
  const id = fileId.toString('hex');
  output += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${infoId} 0 R${encrypt} /ID [<${id}> <${id}>] >>\n`;
  output += `startxref\n${xref}\n%%EOF\n`;
  return Buffer.from(output, 'latin1');
}

function contentStream(blocks: readonly PdfBlock[]): string {
  let y = 740;
  let stream = 'BT\n';
  for (const block of blocks) {
    const size = block.size ?? 11;
    for (const line of block.lines) {
      stream += `/F1 ${size} Tf 1 0 0 1 72 ${y.toFixed(2)} Tm (${escapePdfString(line)}) Tj\n`;
      y -= size * 1.2;
    }
    y -= size * 1.5;
  }
  return `${stream}ET`;
}

function escapePdfString(text: string): string {
  return text.replace(/[\\()]/g, (character) => `\\${character}`);
}

const passwordPadding = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

function padPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'latin1'), passwordPadding]).subarray(0, 32);
}

/** PDF 1.7 §7.6.3, algorithms 2, 3 and 4 for revision 2 (40-bit key); the owner password equals the user's. */
function standardSecurity(password: string, fileId: Buffer): { owner: Buffer; user: Buffer; fileKey: Buffer } {
  const padded = padPassword(password);
  const ownerKey = createHash('md5').update(padded).digest().subarray(0, 5);
  const owner = rc4(ownerKey, padded);
  const permissions = Buffer.alloc(4);
  permissions.writeInt32LE(-44);
  const fileKey = createHash('md5').update(Buffer.concat([padded, owner, permissions, fileId])).digest().subarray(0, 5);
  return { owner, user: rc4(fileKey, passwordPadding), fileKey };
}

function objectKey(fileKey: Buffer, objectNumber: number): Buffer {
  const suffix = Buffer.from([objectNumber & 0xff, (objectNumber >> 8) & 0xff, (objectNumber >> 16) & 0xff, 0, 0]);
  return createHash('md5').update(Buffer.concat([fileKey, suffix])).digest().subarray(0, fileKey.length + 5);
}

/** RC4, written out because OpenSSL 3 no longer offers it by default. */
function rc4(key: Buffer, data: Buffer): Buffer {
  const state = Array.from({ length: 256 }, (_, index) => index);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + state[i]! + key[i % key.length]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
  }
  const output = Buffer.alloc(data.length);
  let i = 0;
  j = 0;
  for (let index = 0; index < data.length; index++) {
    i = (i + 1) & 0xff;
    j = (j + state[i]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
    output[index] = data[index]! ^ state[(state[i]! + state[j]!) & 0xff]!;
  }
  return output;
}
