import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { InvalidKeyError, ObjectNotFoundError, StorageLimitError } from '../errors';
import type { ObjectStorage } from '../object-storage';
import { MiB, eventually, randomContent, readAll, sha256, streamOf } from './bodies';

/** One driver under test, plus ways to look behind it that the ObjectStorage interface does not offer. */
export interface StorageHarness {
  storage: ObjectStorage;
  /** Everything under `prefix/`, plus any staged or partially uploaded data the backend still holds. */
  leftovers: (prefix: string) => Promise<string[]>;
  /** True once bytes of a put that has not finished reading its body have reached the backend. */
  hasPartialWrite: () => Promise<boolean>;
}

/** Each test works under its own tenant-like prefix, so no test depends on another. */
function freshPrefix(): string {
  return `tenants/${randomUUID()}`;
}

/**
 * The behaviour every ObjectStorage driver promises. Call inside a `describe` whose `before` prepares the
 * harness; `harness()` is read when each test runs.
 */
export function objectStorageContract(harness: () => StorageHarness): void {
  it('round-trips a multi-megabyte streamed body and reports its size and sha256', async () => {
    const { storage } = harness();
    const key = `${freshPrefix()}/documents/big.bin`;
    const content = randomContent(12 * MiB + 12_345);

    const stored = await storage.put(key, streamOf(content), { contentType: 'application/octet-stream' });

    assert.deepEqual(stored, { key, sizeBytes: content.length, sha256: sha256(content) });
    const readBack = await readAll(await storage.get(key));
    assert.equal(readBack.length, content.length);
    assert.equal(sha256(readBack), sha256(content));
    assert.ok(readBack.equals(content));
    assert.deepEqual(await storage.stat(key), { sizeBytes: content.length });
  });

  it('stores an empty body', async () => {
    const { storage } = harness();
    const key = `${freshPrefix()}/empty`;
    const stored = await storage.put(key, Readable.from([]));
    assert.equal(stored.sizeBytes, 0);
    assert.equal(stored.sha256, sha256(Buffer.alloc(0)));
    assert.equal((await readAll(await storage.get(key))).length, 0);
    assert.deepEqual(await storage.stat(key), { sizeBytes: 0 });
  });

  it('writes to the backend while the body is still streaming, instead of buffering it whole', async () => {
    const { storage, hasPartialWrite } = harness();
    const key = `${freshPrefix()}/streamed.bin`;
    const head = randomContent(6 * MiB);
    const tail = randomContent(1 * MiB);
    async function* body(): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < head.length; offset += 64 * 1024) yield head.subarray(offset, offset + 64 * 1024);
      // The body does not end until the backend has received some of it.
      await eventually(hasPartialWrite, 'the backend holds part of the unfinished body');
      yield tail;
    }

    const stored = await storage.put(key, Readable.from(body()));

    assert.equal(stored.sha256, sha256(Buffer.concat([head, tail])));
  });

  it('replaces an object on a second put', async () => {
    const { storage } = harness();
    const key = `${freshPrefix()}/replaced`;
    await storage.put(key, streamOf(Buffer.from('first version')));
    await storage.put(key, streamOf(Buffer.from('second')));
    assert.equal((await readAll(await storage.get(key))).toString(), 'second');
    assert.deepEqual(await storage.stat(key), { sizeBytes: 6 });
  });

  it('answers stat with null for a missing key', async () => {
    const { storage } = harness();
    assert.equal(await storage.stat(`${freshPrefix()}/nothing-here`), null);
  });

  it('fails get of a missing key with ObjectNotFoundError (NOT_FOUND, 404)', async () => {
    const { storage } = harness();
    const key = `${freshPrefix()}/nothing-here`;
    await assert.rejects(
      storage.get(key),
      (error: unknown) => error instanceof ObjectNotFoundError && error.code === 'NOT_FOUND' && error.status === 404 && error.key === key,
    );
  });

  it('treats a prefix of other objects as no object at all', async () => {
    const { storage } = harness();
    const prefix = freshPrefix();
    await storage.put(`${prefix}/folder/inside`, streamOf(Buffer.from('inside')));
    assert.equal(await storage.stat(`${prefix}/folder`), null);
    await assert.rejects(storage.get(`${prefix}/folder`), ObjectNotFoundError);
    await storage.delete(`${prefix}/folder`);
    assert.deepEqual(await storage.stat(`${prefix}/folder/inside`), { sizeBytes: 6 });
  });

  it('deletes idempotently', async () => {
    const { storage } = harness();
    const prefix = freshPrefix();
    const key = `${prefix}/to-delete`;
    const neighbour = `${prefix}/neighbour`;
    await storage.put(key, streamOf(Buffer.from('bye')));
    await storage.put(neighbour, streamOf(Buffer.from('stay')));

    await storage.delete(key);
    assert.equal(await storage.stat(key), null);
    await assert.rejects(storage.get(key), ObjectNotFoundError);
    await storage.delete(key);
    await storage.delete(`${prefix}/never-existed`);
    assert.deepEqual(await storage.stat(neighbour), { sizeBytes: 4 });
  });

  it('deletes every object under a prefix, whole segments only, and counts them', async () => {
    const { storage } = harness();
    const tenant = freshPrefix();
    const doomed = [`${tenant}/docs/a`, `${tenant}/docs/b`, `${tenant}/docs/nested/c`];
    const kept = [`${tenant}/docs-archive/a`, `${tenant}/other/a`, `${freshPrefix()}/docs/a`];
    for (const key of [...doomed, ...kept]) await storage.put(key, streamOf(Buffer.from(key)));

    assert.equal(await storage.deletePrefix(`${tenant}/docs`), doomed.length);

    for (const key of doomed) assert.equal(await storage.stat(key), null, `${key} is gone`);
    for (const key of kept) assert.deepEqual(await storage.stat(key), { sizeBytes: Buffer.byteLength(key) }, `${key} is kept`);
    assert.equal(await storage.deletePrefix(`${tenant}/docs/`), 0);
    assert.equal(await storage.deletePrefix(`${freshPrefix()}/never-written`), 0);
  });

  it('rejects a body over maxBytes with StorageLimitError, stops reading it and leaves nothing behind', async () => {
    const { storage, leftovers } = harness();
    const prefix = freshPrefix();
    const key = `${prefix}/too-big.bin`;
    const limitBytes = 1 * MiB;
    const body = streamOf(randomContent(8 * MiB));

    await assert.rejects(
      storage.put(key, body, { maxBytes: limitBytes }),
      (error: unknown) =>
        error instanceof StorageLimitError &&
        error.code === 'PAYLOAD_TOO_LARGE' &&
        error.status === 413 &&
        error.limitBytes === limitBytes &&
        (error.details as { limitBytes: number }).limitBytes === limitBytes,
    );

    assert.ok(body.destroyed, 'the body stream is destroyed');
    assert.ok(body.pulledBytes() < 8 * MiB, `stopped reading early (pulled ${body.pulledBytes()} bytes)`);
    assert.equal(await storage.stat(key), null);
    assert.deepEqual(await leftovers(prefix), []);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const { storage } = harness();
    const key = `${freshPrefix()}/exact.bin`;
    const content = randomContent(MiB);
    const stored = await storage.put(key, streamOf(content), { maxBytes: MiB });
    assert.equal(stored.sizeBytes, MiB);
  });

  it('keeps the previous object when an oversized replacement is rejected', async () => {
    const { storage, leftovers } = harness();
    const prefix = freshPrefix();
    const key = `${prefix}/kept.txt`;
    await storage.put(key, streamOf(Buffer.from('original')));

    await assert.rejects(storage.put(key, streamOf(randomContent(2 * MiB)), { maxBytes: MiB }), StorageLimitError);

    assert.equal((await readAll(await storage.get(key))).toString(), 'original');
    assert.deepEqual(await leftovers(prefix), [key]);
  });

  it('rejects malformed keys in every operation with InvalidKeyError', async () => {
    const { storage, leftovers } = harness();
    const prefix = freshPrefix();
    const badKeys = [
      '',
      `/${prefix}/x`,
      `${prefix}/../escape`,
      `../${prefix}`,
      `${prefix}/./x`,
      `${prefix}//x`,
      `${prefix}/x/`,
      `${prefix}/nul\u0000byte`,
      `${prefix}/new\nline`,
      `${prefix}\\x`,
      `${prefix}/.hidden`,
      `${prefix}/${'x'.repeat(1025)}`,
      `${prefix}/${'é'.repeat(300)}`,
    ];
    for (const key of badKeys) {
      const body = streamOf(Buffer.from('x'));
      await assert.rejects(storage.put(key, body), InvalidKeyError, `put ${JSON.stringify(key)}`);
      assert.ok(body.destroyed, `put ${JSON.stringify(key)} destroys the body it will not store`);
      await assert.rejects(storage.get(key), InvalidKeyError, `get ${JSON.stringify(key)}`);
      await assert.rejects(storage.stat(key), InvalidKeyError, `stat ${JSON.stringify(key)}`);
      await assert.rejects(storage.delete(key), InvalidKeyError, `delete ${JSON.stringify(key)}`);
    }
    for (const prefixToDelete of ['', '/', `${prefix}/..`, `/${prefix}`, `${prefix}//`]) {
      await assert.rejects(storage.deletePrefix(prefixToDelete), InvalidKeyError, `deletePrefix ${JSON.stringify(prefixToDelete)}`);
    }
    assert.deepEqual(await leftovers(prefix), []);
  });

  it('handles concurrent puts to different keys', async () => {
    const { storage } = harness();
    const prefix = freshPrefix();
    const contents = Array.from({ length: 8 }, (_, index) => randomContent(256 * 1024 + index * 4099));

    const stored = await Promise.all(contents.map((content, index) => storage.put(`${prefix}/parallel/${index}`, streamOf(content))));

    for (const [index, content] of contents.entries()) {
      assert.equal(stored[index]?.sha256, sha256(content));
      const readBack = await readAll(await storage.get(`${prefix}/parallel/${index}`));
      assert.ok(readBack.equals(content), `object ${index} holds its own content`);
    }
  });

  it('passes its health check', async () => {
    await harness().storage.check();
  });
}
