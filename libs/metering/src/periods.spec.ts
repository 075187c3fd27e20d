import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { periodEnd, periodStart } from './periods';

describe('budget periods (UTC)', () => {
  it('starts and ends days and months in UTC, across a year end', () => {
    const at = new Date('2026-12-31T23:59:59.999Z');
    assert.equal(periodStart('day', at).toISOString(), '2026-12-31T00:00:00.000Z');
    assert.equal(periodEnd('day', at).toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(periodStart('month', at).toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(periodEnd('month', at).toISOString(), '2027-01-01T00:00:00.000Z');
  });
});
