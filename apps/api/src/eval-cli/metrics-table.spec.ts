import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsTable, type Metrics } from './metrics-table';

const run: Metrics = { queries: 3, ndcgAt10: 0.5, recallAt5: 0.25, recallAt20: 0.5, recallAt100: 1, mrrAt10: 0.75, latencyP50Ms: 12.34, latencyP95Ms: 40 };

describe('quarry eval metrics table', () => {
  it('prints every metric, and the baseline with a signed delta when there is one', () => {
    const alone = metricsTable(run, null).split('\n');
    assert.match(alone[0]!, /^metric\s+run$/);
    assert.ok(alone.some((line) => /^nDCG@10\s+0\.5000$/.test(line)));
    assert.ok(alone.some((line) => /^latency p50 \(ms\)\s+12\.3$/.test(line)));
    assert.equal(alone.at(-1), '(3 queries)');

    const compared = metricsTable(run, { ...run, ndcgAt10: 0.6, mrrAt10: 0.7 }).split('\n');
    assert.ok(compared.some((line) => /^nDCG@10\s+0\.5000\s+0\.6000\s+-0\.1000$/.test(line)), compared.join('\n'));
    assert.ok(compared.some((line) => /^MRR@10\s+0\.7500\s+0\.7000\s+\+0\.0500$/.test(line)));
  });
});
