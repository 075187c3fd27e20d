import type { Readable } from 'node:stream';

export interface PutOptions {
  /** Stored with the object where the driver keeps metadata (S3); the local driver ignores it. */
  contentType?: string;
  /** The put fails with a StorageLimitError, and stores nothing, once the body passes this many bytes. */
  maxBytes?: number;
}

export interface StoredObject {
  key: string;
  sizeBytes: number;
  /** Hex sha256 of the stored bytes, computed while they streamed. */
  sha256: string;
}

/**
 * Blob storage for uploaded files and derived artefacts. Keys are relative paths such as
 * `tenants/<uuid>/documents/<id>/original` (see object-key.ts); a malformed key fails with an InvalidKeyError.
 *
 * A put is all or nothing: readers see the previous object or the complete new one, and a failed put
 * (over the limit, source error) leaves the previous object, or no object, in place.
 */
export interface ObjectStorage {
  /**
   * Streams `body` into the object, never holding all of it in memory. The put takes ownership of `body`:
   * it reads it to the end, and destroys it if the put fails.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<StoredObject>;
  /** A stream of the object's bytes; an ObjectNotFoundError when there is none. The caller must consume or destroy it. */
  get(key: string): Promise<Readable>;
  /** null when there is no object under the key. */
  stat(key: string): Promise<{ sizeBytes: number } | null>;
  /** Removes the object; removing one that does not exist succeeds. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix/` (whole segments, see normalizePrefix) and returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Rejects when the storage cannot be used (health checks). */
  check(): Promise<void>;
}
