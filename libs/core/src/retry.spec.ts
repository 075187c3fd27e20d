import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfterMs, retryDelayMs, sleep } from './retry';
import { Semaphore } from './semaphore';

describe('retry policy', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles the step per attempt, jitters within its upper half and caps it', () => {
    assert.equal(retryDelayMs(1, policy, undefined, () => 0), 50);
    assert.equal(retryDelayMs(1, policy, undefined, () => 1), 100);
    assert.equal(retryDelayMs(3, policy, undefined, () => 1), 400);
    assert.equal(retryDelayMs(10, policy, undefined, () => 1), 1_000);
  });

  it("waits at least as long as the server's Retry-After, and not at all beyond the cap", () => {
    assert.equal(retryDelayMs(1, policy, 700, () => 0), 700);
    assert.equal(retryDelayMs(1, policy, 1_001), undefined);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs('3', now), 3_000);
    assert.equal(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfterMs(null, now), undefined);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
  });

  it('sleeps until aborted, rejecting with the abort reason', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    assert.ok(performance.now() - started < 100);
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once and runs them all', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(results, Array.from({ length: 12 }, (_, i) => i));
  });

  it('frees the slot of a failed task and drops a waiter that gives up', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.run(() => Promise.reject(new Error('boom'))), /boom/);
    let release: () => void = () => undefined;
    const holder = semaphore.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    let ranAbandoned = false;
    const abandoned = semaphore.run(() => {
      ranAbandoned = true;
      return Promise.resolve();
    }, controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(abandoned, /gave up/);
    release();
    await holder;
    assert.equal(await semaphore.run(() => Promise.resolve('next')), 'next');
    assert.equal(ranAbandoned, false);
  });
});
