import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { EmbeddingError } from './embedding-provider';
import { writeTinyBertModel, type TinyBertModel } from './test-support/tiny-bert-model';
import { assertVectorClose } from './test-support/vector-assertions';
import { TransformersEmbeddingProvider, type TransformersEmbeddingConfig } from './transformers.provider';
import { dot, l2Normalize } from './vectors';

let tiny: TinyBertModel;

function provider(overrides: Partial<TransformersEmbeddingConfig> = {}): TransformersEmbeddingProvider {
  return new TransformersEmbeddingProvider({
    modelDir: tiny.dir,
    model: 'tiny-bert',
    device: 'cpu',
    pooling: 'mean',
    normalize: true,
    batchSize: 8,
    ...overrides,
  });
}

/** What the model must produce: the mean of (word + token type 0) rows over [CLS] tokens… [SEP]. */
function expectedMean(tokens: string[]): number[] {
  const rows = ['[CLS]', ...tokens, '[SEP]'].map((token) => {
    const id = tiny.vocab.get(token);
    assert.ok(id !== undefined, `test vocabulary lacks ${token}`);
    return tiny.wordEmbeddings[id]!.map((value, i) => value + tiny.tokenTypeEmbeddings[0]![i]!);
  });
  return rows[0]!.map((_, i) => rows.reduce((sum, row) => sum + row[i]!, 0) / rows.length);
}

describe('TransformersEmbeddingProvider (tiny BERT built in ONNX)', () => {
  before(() => {
    tiny = writeTinyBertModel();
  });
  after(() => rmSync(tiny.dir, { recursive: true, force: true }));

  it('reads its dimensions from config.json and mean-pools, then normalises', async () => {
    const embedder = provider();
    assert.equal(embedder.dimensions, tiny.dimensions);
    const [vector] = await embedder.embed(['The cat sat']);
    assert.ok(vector);
    assertVectorClose(vector, l2Normalize(expectedMean(['the', 'cat', 'sat'])));
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5);
  });

  it('returns the raw mean when normalisation is off, and the [CLS] row for cls pooling', async () => {
    const [raw] = await provider({ normalize: false }).embed(['The cat sat']);
    assertVectorClose(raw!, expectedMean(['the', 'cat', 'sat']));
    assert.ok(Math.abs(Math.hypot(...raw!) - 1) > 1e-3, 'the raw mean happens to be unit length; the test proves nothing');
    const [cls] = await provider({ pooling: 'cls', normalize: false }).embed(['The cat sat']);
    const clsId = tiny.vocab.get('[CLS]')!;
    assertVectorClose(cls!, tiny.wordEmbeddings[clsId]!.map((value, i) => value + tiny.tokenTypeEmbeddings[0]![i]!));
  });

  it('gives identical texts identical vectors, alone or padded in a batch', async () => {
    const embedder = provider();
    const [alone] = await embedder.embed(['a dog ran in the park']);
    const batch = await embedder.embed(['cat', 'a dog ran in the park', 'the stock market fell sharply on quarterly earnings']);
    assert.deepEqual(batch[1], alone);
    assert.notDeepEqual(batch[0], alone);
  });

  it('puts texts that share words closer than texts that do not', async () => {
    const [mat, otherMat, market] = await provider().embed([
      'the cat sat on the mat',
      'a cat sat on a mat',
      'stock market fell sharply',
    ]);
    assert.ok(dot(mat!, otherMat!) > dot(mat!, market!), `${dot(mat!, otherMat!)} vs ${dot(mat!, market!)}`);
  });

  it('keeps input order across batches', async () => {
    const texts = ['cat', 'dog', 'the mat', 'a park', 'stock market', 'cats sat'];
    const oneBatch = await provider({ batchSize: 32 }).embed(texts);
    const smallBatches = await provider({ batchSize: 4 }).embed(texts);
    assert.equal(smallBatches.length, texts.length);
    smallBatches.forEach((vector, i) => assertVectorClose(vector, oneBatch[i]!));
  });

  it('puts the query or document instruction in front of the text', async () => {
    const prefixed = provider({ queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    const plain = provider();
    const [asQuery] = await prefixed.embed(['cats sat'], { purpose: 'query' });
    const [asDocument] = await prefixed.embed(['cats sat']);
    const [spelledOutQuery, spelledOutDocument] = await plain.embed(['query: cats sat', 'passage: cats sat']);
    assertVectorClose(asQuery!, spelledOutQuery!);
    assertVectorClose(asDocument!, spelledOutDocument!);
    assert.notDeepEqual(asQuery, asDocument);
  });

  it('counts the tokens the model sees, truncating at the model maximum', async () => {
    const embedder = provider();
    const short = await embedder.embedWithUsage(['The cat sat', 'cats']);
    // [CLS] the cat sat [SEP] + [CLS] cat ##s [SEP]
    assert.equal(short.tokens, 9);
    const cats = (count: number): string => Array.from({ length: count }, () => 'cat').join(' ');
    const long = await embedder.embedWithUsage([cats(40), cats(60)]);
    assert.equal(long.tokens, 2 * tiny.maxLength);
    // Both are cut to the same first tokens, so they embed alike.
    assertVectorClose(long.vectors[0]!, long.vectors[1]!);
  });

  it('answers a readiness check and refuses blank texts', async () => {
    const embedder = provider();
    await embedder.check();
    assert.deepEqual(await embedder.embed([]), []);
    await assert.rejects(embedder.embed(['cat', '  ']), (error: unknown) => error instanceof EmbeddingError && !error.retryable);
  });

  it('stops between batches when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(provider().embed(['cat'], { signal: controller.signal }), { name: 'AbortError' });
  });

  it('fails clearly, and for good, when CUDA is not available', async () => {
    const embedder = provider({ device: 'cuda' });
    for (const attempt of [() => embedder.embed(['cat']), () => embedder.check()]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof EmbeddingError);
        assert.equal(error.retryable, false);
        assert.match(error.message, /cannot run on device "cuda"/);
        assert.match(error.message, /libonnxruntime_providers_cuda/);
        return true;
      });
    }
  });

  it('refuses at construction a directory without a model config', () => {
    assert.throws(
      () => provider({ modelDir: '/nonexistent/model' }),
      (error: unknown) => error instanceof EmbeddingError && /config\.json/.test(error.message) && !error.retryable,
    );
  });
});
