import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, type FileHandle, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidKeyError, ObjectNotFoundError } from './errors';
import { normalizePrefix, validateKey } from './object-key';
import type { ObjectStorage, PutOptions, StoredObject } from './object-storage';
import { StreamMeter } from './stream-meter';

export interface LocalFsStorageConfig {
  /** Absolute, or resolved against the working directory. */
  rootDir: string;
}

/** Where puts are written before they are renamed into place. Key segments cannot start with a dot, so no key reaches it. */
const stagingDirName = '.staging';
/** Staged files this old were left by a process that died mid-put. */
const staleStagingMs = 24 * 60 * 60 * 1000;

/**
 * Objects as files under one root directory: `<root>/<key>`. Puts stream into `<root>/.staging/` (same file
 * system, so the final rename is atomic), are fsynced, then renamed into place, so readers never see a partial
 * object. One limitation S3 does not share: a key cannot also be the prefix of other keys (`a/b` and `a/b/c`).
 */
export class LocalFsObjectStorage implements ObjectStorage {
  private readonly root: string;
  private readonly stagingDir: string;
  private staleStagingRemoved = false;

  constructor(config: LocalFsStorageConfig) {
    this.root = resolve(config.rootDir);
    this.stagingDir = join(this.root, stagingDirName);
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const staged = join(this.stagingDir, `${randomUUID()}.partial`);
    try {
      const target = this.pathOf(key);
      const meter = new StreamMeter(options.maxBytes);
      await this.prepareStaging();
      await writeDurably(staged, body, meter);
      await this.moveIntoPlace(staged, target, key);
      return { key, ...meter.result() };
    } catch (error) {
      body.destroy();
      await rm(staged, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(key) : error;
    }
    try {
      // A directory opens too: it holds other objects, but there is none under this key.
      if (!(await handle.stat()).isFile()) throw new ObjectNotFoundError(key);
    } catch (error) {
      await handle.close();
      throw error;
    }
    // Reading from an open handle keeps serving this version even if the object is replaced or deleted meanwhile.
    return handle.createReadStream();
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { sizeBytes: info.size } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      // EISDIR: only other objects' directory is there, which is "no object under this key".
      if (isMissing(error) || hasCode(error, 'EISDIR')) return;
      throw error;
    }
    await this.removeEmptyDirectories(dirname(path));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const dir = this.pathOf(normalizePrefix(prefix));
    const isDirectory = await lstat(dir).then(
      (info) => info.isDirectory(),
      (error: unknown) => {
        if (isMissing(error)) return false;
        throw error;
      },
    );
    if (!isDirectory) return 0;
    await this.prepareStaging();
    // Renaming the tree away first makes the delete atomic for readers; counting and removing happen out of sight.
    const doomed = join(this.stagingDir, `${randomUUID()}.deleting`);
    try {
      await rename(dir, doomed);
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    const entries = await readdir(doomed, { recursive: true, withFileTypes: true });
    await rm(doomed, { recursive: true, force: true });
    await this.removeEmptyDirectories(dirname(dir));
    return entries.filter((entry) => entry.isFile()).length;
  }

  async check(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  /** Validates the key and maps it to its file, refusing anything that would land outside the root. */
  private pathOf(key: string): string {
    validateKey(key);
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new InvalidKeyError(key, 'leaves the storage root');
    return path;
  }

  private async prepareStaging(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
    if (this.staleStagingRemoved) return;
    this.staleStagingRemoved = true;
    await this.removeStaleStaging();
  }

  /** Clears what a crashed process left mid-put or mid-delete; ctime is when it was last written or renamed. */
  private async removeStaleStaging(): Promise<void> {
    const cutoff = Date.now() - staleStagingMs;
    for (const name of await readdir(this.stagingDir)) {
      const path = join(this.stagingDir, name);
      const info = await lstat(path).catch(() => null);
      if (info && info.ctimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  }

  private async moveIntoPlace(staged: string, target: string, key: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(staged, target);
        break;
      } catch (error) {
        // A concurrent delete can remove the directory between mkdir and rename; make it again.
        if (hasCode(error, 'ENOENT') && attempt < 3) continue;
        if (['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'].some((code) => hasCode(error, code))) {
          throw new InvalidKeyError(key, 'is both an object and the prefix of other objects, which the local driver cannot store');
        }
        throw error;
      }
    }
    await syncDirectory(dirname(target));
  }

  /** Removes directories left empty by a delete, from `dir` up to (not including) the root. */
  private async removeEmptyDirectories(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(this.root + sep); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone): nothing above it can be empty either
      }
    }
  }
}

/**
 * Streams the body into a new file. `flush` fsyncs it before the stream closes, and the pipeline settles only
 * after that close, so the rename that follows publishes complete, durable bytes.
 */
async function writeDurably(path: string, body: Readable, meter: StreamMeter): Promise<void> {
  await pipeline(body, (source: AsyncIterable<unknown>) => meter.measure(source), createWriteStream(path, { flags: 'wx', flush: true }));
}

/** Makes a rename into `dir` survive a crash. Some file systems cannot fsync a directory; that is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].some((code) => hasCode(error, code))) throw error;
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
