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

  it('gathers requests that arrive while a batch runs and starts them the moment the model is free', async () => {
    const batches: number[][] = [];
    let finishFirst: () => void = () => undefined;
    const firstDone = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    // A wait far longer than the test may take: only a free model, not the timer, can start the second batch.
    const batcher = new MicroBatcher<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await firstDone;
      return items.map((item) => item + 100);
    }, 2, 600_000);
    const first = batcher.submit([1, 2]);
    const second = batcher.submit([3]);
    const third = batcher.submit([4]);
    const fourth = batcher.submit([5]);
    assert.deepEqual(batches, [[1, 2]]);
    finishFirst();
    assert.deepEqual(await Promise.all([first, second, third, fourth]), [[101, 102], [103], [104], [105]]);
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  });

  it('starts at once on an idle model when there is no wait', async () => {
    const batches: string[][] = [];
    const batcher = new MicroBatcher<string, string>((items) => {
      batches.push(items);
      return Promise.resolve(items);
    }, 32, 0);
    const first = batcher.submit(['a']);
    assert.deepEqual(batches, [['a']]);
    assert.deepEqual(await first, ['a']);
  });

  it('fails every caller of a failed batch, and recovers for the next', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>((items) => (fail ? Promise.reject(new Error('model down')) : Promise.resolve(items)), 8, 1);
    await assert.rejects(Promise.all([batcher.submit([1]), batcher.submit([2])]), /model down/);
    fail = false;
    assert.deepEqual(await batcher.submit([7]), [7]);
  });
});
