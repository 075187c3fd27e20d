import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MicroBatcher } from './micro-batcher';

describe('MicroBatcher', () => {
  it('coalesces concurrent small requests into full batches and keeps each caller’s order', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>((items) => {
      batches.push(items);
      return Promise.resolve(items.map((item) => item * 10));
    }, 4, 20);
    const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])]);
    assert.deepEqual(results, [[10, 20], [30], [40, 50, 60]]);
    assert.deepEqual(batches, [[1, 2, 3, 4], [5, 6]]);
  });

  it('flushes a lone request after the wait', async () => {
    const batcher = new MicroBatcher<string, string>((items) => Promise.resolve(items.map((item) => item.toUpperCase())), 32, 5);
    const started = Date.now();
    assert.deepEqual(await batcher.submit(['a']), ['A']);
    assert.ok(Date.now() - started < 500);
  });

  it('fails every caller of a failed batch, and recovers for the next', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>((items) => (fail ? Promise.reject(new Error('model down')) : Promise.resolve(items)), 8, 1);
    await assert.rejects(Promise.all([batcher.submit([1]), batcher.submit([2])]), /model down/);
    fail = false;
    assert.deepEqual(await batcher.submit([7]), [7]);
  });
});
