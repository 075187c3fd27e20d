import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tenantScope } from '@quarry/core';
import { rerankWithinBudget, Rerankers, type Reranker, type RerankInput } from './reranker';

const input: Omit<RerankInput, 'signal'> = {
  scope: tenantScope('00000000-0000-7000-8000-000000000001'),
  query: 'q',
  language: 'english',
  candidates: [
    { chunkId: 'a', documentId: 'da', title: '', text: 'alpha', fusedScore: 2 },
    { chunkId: 'b', documentId: 'db', title: '', text: 'beta', fusedScore: 1 },
  ],
};

const reranker = (name: string, rerank: (input: RerankInput) => Promise<number[]>): Reranker => ({ name, rerank });

describe('rerankWithinBudget', () => {
  it('returns the scores of a reranker that answers in time', async () => {
    assert.deepEqual(await rerankWithinBudget(reranker('ok', () => Promise.resolve([2, 1])), input, 5_000), { ok: true, scores: [2, 1] });
  });

  it('gives up at the budget, aborts the reranker, and says so', async () => {
    let aborted = false;
    const slow = reranker('slow', ({ signal }) => new Promise((resolve) => {
      signal.addEventListener('abort', () => {
        aborted = true;
        resolve([1, 2]);
      });
    }));
    const outcome = await rerankWithinBudget(slow, input, 50);
    assert.deepEqual(outcome, { ok: false, reason: 'Reranker slow timed out after 50 ms; results are in fused order' });
    assert.ok(aborted, 'the reranker’s signal was aborted');
  });

  it('turns failures and wrong answers into reasons', async () => {
    const failed = await rerankWithinBudget(reranker('broken', () => Promise.reject(new Error('connection refused'))), input, 5_000);
    assert.deepEqual(failed, { ok: false, reason: 'Reranker broken failed (connection refused); results are in fused order' });
    const short = await rerankWithinBudget(reranker('short', () => Promise.resolve([1])), input, 5_000);
    assert.equal(short.ok, false);
    const nan = await rerankWithinBudget(reranker('nan', () => Promise.resolve([1, Number.NaN])), input, 5_000);
    assert.equal(nan.ok, false);
  });

  it('Rerankers refuses a default that is not configured', () => {
    assert.throws(() => new Rerankers([reranker('learned', () => Promise.resolve([]))], 'http'), /default reranker http is not configured/);
    assert.deepEqual(new Rerankers([reranker('learned', () => Promise.resolve([]))], 'learned').names(), ['learned']);
  });
});
