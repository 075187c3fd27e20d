import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CrossEncoderRerankProvider } from './cross-encoder.provider';
import { writeTinyCrossEncoderModel, type TinyCrossEncoderModel } from './test-support/tiny-bert-model';

/** What the tiny model computes: the sum of the passage's token scores (see writeTinyCrossEncoderModel). */
function expectedScore(model: TinyCrossEncoderModel, passage: string): number {
  return passage
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .reduce((sum, word) => sum + (model.tokenScores[model.vocab.get(word) ?? model.vocab.get('[UNK]')!] ?? 0), 0);
}

describe('CrossEncoderRerankProvider (transformers.js, a real ONNX cross-encoder built for the test)', () => {
  let model: TinyCrossEncoderModel;
  before(() => {
    model = writeTinyCrossEncoderModel();
  });
  after(() => rmSync(model.dir, { recursive: true, force: true }));

  it('scores each (query, passage) pair with the model, in input order, across batches', async () => {
    const ranker = new CrossEncoderRerankProvider({ modelDir: model.dir, device: 'cpu', batchSize: 2 });
    const passages = ['the cat sat on the mat', 'stock market fell sharply', 'dog ran in the park', 'quarterly earnings'];
    const scores = await ranker.rerank('cat on a mat', passages);
    assert.equal(scores.length, passages.length);
    passages.forEach((passage, index) => assert.ok(Math.abs(scores[index]! - expectedScore(model, passage)) < 1e-4, `${passage}: ${scores[index]} vs ${expectedScore(model, passage)}`));
    // The query is segment A: changing it changes nothing in this model, while the passage does.
    assert.deepEqual(
      (await ranker.rerank('stock market', passages)).map((score) => score.toFixed(4)),
      scores.map((score) => score.toFixed(4)),
    );
    assert.deepEqual(await ranker.rerank('anything', []), []);
  });

  it('stops between batches when aborted, and names a missing model directory', async () => {
    const ranker = new CrossEncoderRerankProvider({ modelDir: model.dir, device: 'cpu', batchSize: 1 });
    const controller = new AbortController();
    controller.abort(new Error('budget spent'));
    await assert.rejects(ranker.rerank('cat', ['the cat'], { signal: controller.signal }), /budget spent/);
    const missing = new CrossEncoderRerankProvider({ modelDir: `${model.dir}-missing`, device: 'cpu', batchSize: 1 });
    await assert.rejects(missing.rerank('cat', ['the cat']), /could not be loaded from .*-missing/);
  });
});
