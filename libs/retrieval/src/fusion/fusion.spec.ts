import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuse, type Candidate } from './fusion';

const c = (chunkId: string, score: number): Candidate => ({ chunkId, documentId: `d-${chunkId}`, score });

describe('fusion', () => {
  const lexical = [c('a', 12), c('b', 9), c('c', 1)];
  const dense = [c('b', 0.9), c('d', 0.8), c('a', 0.1)];

  it('RRF sums weighted reciprocal ranks and records each list’s rank', () => {
    const fused = fuse({ lexical, dense }, { method: 'rrf', weights: {}, rrfK: 60 });
    assert.deepEqual(fused.map((x) => x.chunkId), ['b', 'a', 'd', 'c']);
    const b = fused[0]!;
    assert.equal(b.score, 1 / 62 + 1 / 61);
    assert.deepEqual(b.ranks, { lexical: 2, dense: 1 });
  });

  it('weights change the order', () => {
    const fused = fuse({ lexical, dense }, { method: 'rrf', weights: { lexical: 3, dense: 1 }, rrfK: 60 });
    assert.equal(fused[0]!.chunkId, 'a');
  });

  it('weighted fusion normalises each list to [0, 1] before summing', () => {
    const fused = fuse({ lexical, dense }, { method: 'weighted', weights: { lexical: 0.5, dense: 0.5 }, rrfK: 60 });
    const byId = new Map(fused.map((x) => [x.chunkId, x.score]));
    assert.equal(byId.get('a'), 0.5 * 1 + 0.5 * 0);
    assert.equal(byId.get('b'), 0.5 * (8 / 11) + 0.5 * 1);
    assert.equal(byId.get('c'), 0);
    assert.deepEqual(fused.map((x) => x.chunkId), ['b', 'a', 'd', 'c']);
  });

  it('is deterministic on ties and handles empty lists', () => {
    assert.deepEqual(fuse({ lexical: [], dense: [] }, { method: 'rrf', weights: {}, rrfK: 60 }), []);
    const tie = fuse({ one: [c('y', 1)], two: [c('x', 1)] }, { method: 'rrf', weights: {}, rrfK: 60 });
    assert.deepEqual(tie.map((x) => x.chunkId), ['x', 'y']);
  });
});
