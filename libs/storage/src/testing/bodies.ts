import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;
const chunkBytes = 64 * 1024;

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Random bytes, so a driver that mixed up or reordered chunks cannot pass by accident. */
export function randomContent(sizeBytes: number): Buffer {
  return randomBytes(sizeBytes);
}

/** Streams `content` in 64 KiB chunks and counts how many bytes the consumer pulled. */
export function streamOf(content: Buffer): Readable & { pulledBytes(): number } {
  let pulled = 0;
  function* chunks(): Generator<Buffer> {
    for (let offset = 0; offset < content.length; offset += chunkBytes) {
      const chunk = content.subarray(offset, offset + chunkBytes);
      pulled += chunk.length;
      yield chunk;
    }
  }
  return Object.assign(Readable.from(chunks()), { pulledBytes: () => pulled });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Polls until `condition` holds, failing after `timeoutMs`. */
export async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
