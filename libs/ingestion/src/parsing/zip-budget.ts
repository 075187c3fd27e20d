import { ParseError } from './types';

/** More than any real Word document holds once unzipped; a zip bomb claims far more. */
export const maxUnzippedBytes = 256 * 1024 * 1024;

const endOfDirectorySignature = 0x06054b50;
const directoryEntrySignature = 0x02014b50;

/**
 * Refuses a zip whose entries would unzip to more than `limit` bytes, judged from the central directory
 * before anything is inflated. Inflated data lives in ArrayBuffers, outside the worker's heap limit, so
 * this is the guard against decompression bombs; a directory we cannot read is left to the zip library.
 */
export function assertZipWithinBudget(bytes: Uint8Array, filename: string, limit = maxUnzippedBytes): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndOfDirectory(view);
  if (end === undefined) return;
  const entries = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  let total = 0;
  for (let index = 0; index < entries; index++) {
    if (offset + 46 > view.byteLength || view.getUint32(offset, true) !== directoryEntrySignature) return;
    const size = view.getUint32(offset + 24, true);
    // 0xffffffff means the real size is in a zip64 field: over 4 GB, so over budget either way.
    total += size === 0xffffffff ? Number.POSITIVE_INFINITY : size;
    if (total > limit) throw new ParseError('too_large', `${filename} would unzip to more than ${limit} bytes`);
    offset += 46 + view.getUint16(offset + 28, true) + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
  }
}

/** The end record sits in the last 22 bytes plus an optional comment of up to 64 KB. */
function findEndOfDirectory(view: DataView): number | undefined {
  const earliest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let offset = view.byteLength - 22; offset >= earliest; offset--) {
    if (view.getUint32(offset, true) === endOfDirectorySignature) return offset;
  }
  return undefined;
}
