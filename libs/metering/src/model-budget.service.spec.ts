import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedModelCallError } from './model-budget.service';

describe('blockedModelCallError', () => {
  it('turns a rate-limit block into a 429 with Retry-After in whole seconds', () => {
    const error = blockedModelCallError({ action: 'block', code: 'RATE_LIMITED', status: 429, message: 'slow down', retryAfterMs: 1_200 });
    assert.equal(error.status, 429);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.deepEqual(error.headers, { 'Retry-After': '2' });
    assert.deepEqual(error.details, { retryAfterSeconds: 2 });
  });

  it('keeps 402 and 403 blocks without a Retry-After header', () => {
    const budget = blockedModelCallError({ action: 'block', code: 'BUDGET_EXCEEDED', status: 402, message: 'used up', retryAfterMs: 3_600_000 });
    assert.equal(budget.status, 402);
    assert.deepEqual(budget.headers, {});
    assert.deepEqual(budget.details, { retryAfterSeconds: 3_600 });
    const off = blockedModelCallError({ action: 'block', code: 'GENERATION_DISABLED', status: 403, message: 'off' });
    assert.equal(off.status, 403);
    assert.equal(off.details, undefined);
  });
});
