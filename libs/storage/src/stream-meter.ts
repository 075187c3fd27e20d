import { createHash } from 'node:crypto';
import { StorageLimitError } from './errors';

/**
 * Counts and hashes bytes as they stream past, and fails the stream as soon as it passes the limit,
 * so neither the size nor the digest ever needs the whole body in memory.
 */
export class StreamMeter {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  /** Set once the limit was passed; drivers use it to tell the limit apart from their own clean-up errors. */
  limitError: StorageLimitError | undefined;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    if (maxBytes !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
  }

  /** Passes the chunks of `source` through; throws a StorageLimitError before yielding the chunk that crosses the limit. */
  async *measure(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const bytes = asBuffer(chunk);
      this.bytes += bytes.length;
      if (this.bytes > this.maxBytes) {
        this.limitError = new StorageLimitError(this.maxBytes);
        throw this.limitError;
      }
      this.hash.update(bytes);
      yield bytes;
    }
  }

  /** Call only after the stream has been read to its end. */
  result(): { sizeBytes: number; sha256: string } {
    return { sizeBytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`An object body must be a stream of bytes, not of ${typeof chunk}`);
}
