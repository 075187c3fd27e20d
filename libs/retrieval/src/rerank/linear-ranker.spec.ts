import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coordinateAscent, linearScores, meanNdcg, ndcgOfScores, standardise, type TrainingQuery } from './linear-ranker';

describe('linear ranker math', () => {
  it('standardises each feature within a query; a constant feature becomes 0', () => {
    const rows = standardise([
      [1, 5],
      [3, 5],
    ]);
    assert.deepEqual(rows, [
      [-1, 0],
      [1, 0],
    ]);
    assert.deepEqual(standardise([]), []);
  });

  it('scores are the weighted sum of standardised features', () => {
    assert.deepEqual(linearScores([2, -1], [[1, 1], [0.5, 2]]), [1, -1]);
  });

  it('nDCG of a scored list: perfect, reversed, and relevant documents the candidates missed', () => {
    assert.equal(ndcgOfScores([3, 2, 1], [1, 0, 0], [1], 10), 1);
    assert.equal(ndcgOfScores([1, 2, 3], [1, 0, 0], [1], 10), 1 / Math.log2(4));
    // Two relevant in the qrels, one among the candidates at rank 1.
    assert.equal(ndcgOfScores([1], [1], [1, 1], 10), 1 / (1 + 1 / Math.log2(3)));
    assert.equal(ndcgOfScores([1], [0], [], 10), 0);
  });

  it('coordinate ascent learns to trust the informative feature over the misleading one', () => {
    // Feature 0 is noise that favours a wrong document; feature 1 marks the relevant one.
    const queries: TrainingQuery[] = Array.from({ length: 20 }, (_, q) => {
      const relevant = q % 4;
      const rows = [0, 1, 2, 3].map((doc) => [doc === (relevant + 1) % 4 ? 1 : 0, doc === relevant ? 0.6 : 0.1 * doc]);
      return { rows: standardise(rows), gains: [0, 1, 2, 3].map((doc) => (doc === relevant ? 1 : 0)), idealGains: [1] };
    });
    const start = [1, 0];
    assert.ok(meanNdcg(start, queries) < 0.8);
    const trained = coordinateAscent(queries, { initial: start });
    assert.equal(trained.ndcg, 1);
    assert.ok(trained.weights[1]! > trained.weights[0]!, JSON.stringify(trained.weights));
    assert.ok(Math.abs(Math.abs(trained.weights[0]!) + Math.abs(trained.weights[1]!) - 1) < 1e-12, 'unit L1 norm');
  });
});
