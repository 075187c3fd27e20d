import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidKeyError } from './errors';
import { LocalFsObjectStorage } from './local-fs.storage';
import { readAll, streamOf } from './testing/bodies';
import { objectStorageContract, type StorageHarness } from './testing/object-storage-contract';

/** Every file under `dir`, as paths relative to `root` with forward slashes (object keys, or `.staging/…`). */
async function filesUnder(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

describe('LocalFsObjectStorage', () => {
  let root: string;
  let harness: StorageHarness;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'quarry-storage-'));
    const staging = join(root, '.staging');
    harness = {
      storage: new LocalFsObjectStorage({ rootDir: root }),
      leftovers: async (prefix) => [...(await filesUnder(root, staging)), ...(await filesUnder(root, join(root, prefix)))],
      hasPartialWrite: async () => {
        const staged = await filesUnder(root, staging);
        const sizes = await Promise.all(staged.map(async (file) => (await stat(join(root, file))).size));
        return sizes.some((size) => size > 0);
      },
    };
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('contract', () => objectStorageContract(() => harness));

  it('stores an object at <root>/<key> and leaves no staged file after a put', async () => {
    const key = 'tenants/0190b8e2-0000-7000-8000-00000000000a/documents/report.pdf';
    await harness.storage.put(key, streamOf(Buffer.from('%PDF-1.7')));
    assert.equal((await stat(join(root, ...key.split('/')))).size, 8);
    assert.deepEqual(await filesUnder(root, join(root, '.staging')), []);
  });

  it('removes directories that deletes leave empty', async () => {
    const tenant = 'tenants/0190b8e2-0000-7000-8000-00000000000b';
    await harness.storage.put(`${tenant}/a/b/c`, streamOf(Buffer.from('c')));
    await harness.storage.put(`${tenant}/x/y`, streamOf(Buffer.from('y')));

    await harness.storage.delete(`${tenant}/a/b/c`);
    await assert.rejects(stat(join(root, tenant, 'a')), { code: 'ENOENT' });
    assert.equal(await harness.storage.deletePrefix(tenant), 1);
    await assert.rejects(stat(join(root, tenant)), { code: 'ENOENT' });
  });

  it('keeps serving an object that was opened before it was deleted', async () => {
    const key = 'tenants/0190b8e2-0000-7000-8000-00000000000c/open-while-deleted';
    await harness.storage.put(key, streamOf(Buffer.from('still readable')));
    const stream = await harness.storage.get(key);
    await harness.storage.delete(key);
    assert.equal((await readAll(stream)).toString(), 'still readable');
  });

  it('cannot store a key that is also the prefix of other keys, and says why', async () => {
    const tenant = 'tenants/0190b8e2-0000-7000-8000-00000000000d';
    await harness.storage.put(`${tenant}/dir/child`, streamOf(Buffer.from('child')));
    await assert.rejects(harness.storage.put(`${tenant}/dir`, streamOf(Buffer.from('parent'))), (error: unknown) => {
      return error instanceof InvalidKeyError && /prefix of other objects/.test(error.message);
    });
    assert.deepEqual(await filesUnder(root, join(root, '.staging')), []);
  });

  it('fails its health check when the root cannot be a directory', async () => {
    const file = join(root, 'not-a-directory');
    await writeFile(file, 'x');
    await assert.rejects(new LocalFsObjectStorage({ rootDir: file }).check());
  });
});
