import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuse, normalise, type Candidate } from './fusion';
import { candidateLimits } from '../search/search.service';
import { fusionDefaults, resolveFusion } from './fusion-settings';

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

describe('weighted fusion with z-scores, and settings overrides', () => {
  it('z-score fusion standardises each list, and a candidate missing from a list gets that list’s lowest score', () => {
    const lexical = [c('a', 3), c('b', 2), c('c', 1)];
    const dense = [c('b', 0.5), c('d', 0.3)];
    const fused = fuse({ lexical, dense }, { method: 'weighted', normalisation: 'zscore', weights: { lexical: 1, dense: 1 }, rrfK: 60 });
    const byId = new Map(fused.map((x) => [x.chunkId, x.score]));
    const z = Math.sqrt(3 / 2); // (3 - 2) / sd of [3, 2, 1]
    assert.ok(Math.abs(byId.get('a')! - (z + -1)) < 1e-12, 'a: lexical z plus the dense floor (-1)');
    assert.ok(Math.abs(byId.get('b')! - (0 + 1)) < 1e-12);
    assert.ok(Math.abs(byId.get('d')! - (-z + -1)) < 1e-12, 'd: the lexical floor plus dense -1');
    assert.deepEqual(fused.map((x) => x.chunkId), ['b', 'a', 'c', 'd']);
  });

  it('normalise handles constant lists and both scales', () => {
    assert.deepEqual(normalise([2, 2], 'zscore'), [0, 0]);
    assert.deepEqual(normalise([2, 2], 'minmax'), [1, 1]);
    assert.deepEqual(normalise([1, 3], 'minmax'), [0, 1]);
    assert.deepEqual(normalise([1, 3], 'zscore'), [-1, 1]);
  });

  it('resolveFusion applies overrides field by field, later ones winning', () => {
    const resolved = resolveFusion(fusionDefaults, { method: 'weighted', weights: { dense: 0.2 } }, { weights: { lexical: 2 }, candidates: { dense: 10 } }, undefined);
    assert.equal(resolved.method, 'weighted');
    assert.deepEqual(resolved.weights, { lexical: 2, dense: 0.2 });
    assert.deepEqual(resolved.candidates, { lexical: fusionDefaults.candidates.lexical, dense: 10 });
    assert.equal(resolved.rrfK, fusionDefaults.rrfK);
    assert.notEqual(resolved.weights, fusionDefaults.weights, 'the defaults are never mutated');
  });
});

describe('candidate counts per retriever', () => {
  const fusion = { ...fusionDefaults, candidates: { lexical: 200, dense: 20 } };
  it('hybrid fuses exactly the configured counts when the larger list fills the page', () => {
    assert.deepEqual(candidateLimits({ mode: 'hybrid', topK: 100, fusion }), { lexicalLimit: 200, denseLimit: 20 });
  });
  it('a mode alone, or hybrid with small counts, is raised to topK', () => {
    assert.deepEqual(candidateLimits({ mode: 'dense', topK: 100, fusion }), { lexicalLimit: 0, denseLimit: 100 });
    assert.deepEqual(candidateLimits({ mode: 'lexical', topK: 10, fusion }), { lexicalLimit: 200, denseLimit: 0 });
    assert.deepEqual(candidateLimits({ mode: 'hybrid', topK: 50, fusion: { ...fusion, candidates: { lexical: 10, dense: 30 } } }), { lexicalLimit: 10, denseLimit: 50 });
  });
});
