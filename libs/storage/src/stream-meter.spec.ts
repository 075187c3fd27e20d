import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { StorageLimitError } from './errors';
import { StreamMeter } from './stream-meter';
import { readAll, sha256 } from './testing/bodies';

describe('StreamMeter', () => {
  it('passes bytes, strings and typed arrays through and measures them', async () => {
    const meter = new StreamMeter();
    const out = await readAll(Readable.from(meter.measure(Readable.from([Buffer.from('ab'), 'cd', new Uint8Array([101, 102])]))));
    assert.equal(out.toString(), 'abcdef');
    assert.deepEqual(meter.result(), { sizeBytes: 6, sha256: sha256(Buffer.from('abcdef')) });
  });

  it('fails before yielding the chunk that crosses the limit', async () => {
    const meter = new StreamMeter(4);
    const seen: Buffer[] = [];
    await assert.rejects(async () => {
      for await (const chunk of meter.measure([Buffer.from('abc'), Buffer.from('de')])) seen.push(chunk);
    }, StorageLimitError);
    assert.deepEqual(seen.map(String), ['abc']);
    assert.equal(meter.limitError?.limitBytes, 4);
  });

  it('rejects a limit that is not a non-negative integer', () => {
    for (const limit of [-1, 1.5, Number.NaN]) assert.throws(() => new StreamMeter(limit), RangeError, String(limit));
    assert.doesNotThrow(() => new StreamMeter(0));
  });

  it('refuses object-mode chunks that are not bytes', async () => {
    await assert.rejects(readAll(Readable.from(new StreamMeter().measure([{ not: 'bytes' }]))), TypeError);
  });
});
