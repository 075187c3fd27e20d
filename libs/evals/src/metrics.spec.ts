import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBeirDataset, parseJsonlDataset } from './dataset';
import { mrrAtK, ndcgAtK, percentile, recallAtK, regressionGate, summarize } from './metrics';

const judged = new Map([
  ['a', 1],
  ['b', 1],
]);

describe('retrieval metrics', () => {
  it('nDCG@10 matches hand-computed values', () => {
    assert.equal(ndcgAtK(['a', 'b', 'x'], judged, 10), 1);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(4);
    const idcg = 1 + 1 / Math.log2(3);
    assert.ok(Math.abs(ndcgAtK(['x', 'a', 'b'], judged, 10) - dcg / idcg) < 1e-12);
    assert.equal(ndcgAtK(['x', 'y'], judged, 10), 0);
    // Chunks of one document count once, at their best rank.
    assert.equal(ndcgAtK(['a', 'a', 'b'], judged, 10), 1);
  });

  it('graded gains follow the ideal ordering', () => {
    const graded = new Map([
      ['a', 2],
      ['b', 1],
    ]);
    assert.equal(ndcgAtK(['a', 'b'], graded, 10), 1);
    assert.ok(ndcgAtK(['b', 'a'], graded, 10) < 1);
  });

  it('recall and MRR at k', () => {
    assert.equal(recallAtK(['x', 'a'], judged, 1), 0);
    assert.equal(recallAtK(['x', 'a'], judged, 2), 0.5);
    assert.equal(mrrAtK(['x', 'y', 'b'], judged, 10), 1 / 3);
    assert.equal(mrrAtK(['x', 'y', 'b'], judged, 2), 0);
  });

  it('summarizes over every judged query and gates regressions by margin', () => {
    const qrels = new Map([
      ['q1', judged],
      ['q2', new Map([['c', 1]])],
    ]);
    const run = summarize([{ queryId: 'q1', ranking: ['a', 'b'], latencyMs: 10 }], qrels);
    assert.equal(run.queries, 2);
    assert.equal(run.ndcgAt10, 0.5, 'the query without an outcome counts as 0');
    assert.equal(run.latencyP95Ms, 10);
    const better = { ...run, ndcgAt10: 0.52 };
    assert.equal(regressionGate(better, run, 0.05).passed, true);
    const gate = regressionGate(better, { ...run, ndcgAt10: 0.4 }, 0.05);
    assert.equal(gate.passed, false);
    assert.equal(gate.failures[0]?.metric, 'ndcgAt10');
  });

  it('percentiles use the nearest rank', () => {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95), 95);
  });
});

describe('datasets', () => {
  it('reads Quarry JSONL with lists or graded maps, and names the bad line', () => {
    const dataset = parseJsonlDataset('{"id":"1","query":"q one","relevant":["doc.md"]}\n\n{"id":"2","query":"q two","relevant":{"a.md":2}}\n');
    assert.deepEqual(dataset.queries.map((query) => query.id), ['1', '2']);
    assert.equal(dataset.qrels.get('2')?.get('a.md'), 2);
    assert.throws(() => parseJsonlDataset('{"id":"1","query":"q","relevant":["d"]}\n{oops'), /line 2: not valid JSON/);
    assert.throws(() => parseJsonlDataset('{"id":"1","query":"","relevant":["d"]}'), /line 1: query/);
    assert.throws(() => parseJsonlDataset('{"id":"1","query":"q","relevant":[],"x":1}'), /line 1/);
    assert.throws(() => parseJsonlDataset('\n'), /no queries/);
  });

  it('reads the BEIR layout and keeps judged queries only', () => {
    const dataset = parseBeirDataset('{"_id":"1","text":"a"}\n{"_id":"2","text":"b"}\n', 'query-id\tcorpus-id\tscore\n1\t100\t1\n1\t101\t1\n');
    assert.deepEqual(dataset.queries, [{ id: '1', text: 'a' }]);
    assert.deepEqual([...dataset.qrels.get('1')!.keys()], ['100', '101']);
    assert.throws(() => parseBeirDataset('{"_id":"1","text":"a"}', 'h\n1 100\n'), /line 2/);
  });
});
