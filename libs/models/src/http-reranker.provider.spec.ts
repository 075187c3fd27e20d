import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CrossEncoderRerankProvider } from './cross-encoder.provider';
import { HttpRerankProvider } from './http-reranker.provider';
import { EmbeddingTestServer, sendJson } from './test-support/embedding-server';
import { startRerankServer } from './test-support/rerank-server';
import { writeTinyCrossEncoderModel, type TinyCrossEncoderModel } from './test-support/tiny-bert-model';

const passages = ['the cat sat on the mat', 'stock market fell sharply', 'dog ran in the park'];
const fast = { baseDelayMs: 5, maxDelayMs: 20 };

describe('HttpRerankProvider against a real reranking server (a transformers.js cross-encoder behind TEI and Cohere routes)', () => {
  let model: TinyCrossEncoderModel;
  let crossEncoder: CrossEncoderRerankProvider;
  let server: EmbeddingTestServer;

  before(async () => {
    model = writeTinyCrossEncoderModel();
    crossEncoder = new CrossEncoderRerankProvider({ modelDir: model.dir, device: 'cpu', batchSize: 8 });
    server = await startRerankServer(crossEncoder);
  });
  after(async () => {
    await server.close();
    rmSync(model.dir, { recursive: true, force: true });
  });

  for (const protocol of ['tei', 'cohere'] as const) {
    it(`${protocol}: returns the server's scores in input order, even though the server sorts them`, async () => {
      const direct = await crossEncoder.rerank('cat', passages);
      const http = new HttpRerankProvider({ baseUrl: `${server.url}/`, protocol, model: 'tiny-cross-encoder', apiKey: 'secret-key' });
      const scores = await http.rerank('cat', passages);
      assert.deepEqual(scores.map((score) => score.toFixed(5)), direct.map((score) => score.toFixed(5)));
      const request = server.requests.at(-1)!;
      assert.equal(request.path, protocol === 'tei' ? '/rerank' : '/v1/rerank');
      assert.equal(request.authorization, 'Bearer secret-key');
      if (protocol === 'cohere') assert.equal(request.body.model, 'tiny-cross-encoder');
    });
  }
});

describe('HttpRerankProvider failures (a misbehaving server)', () => {
  it('retries 503 and connection-level failures, then succeeds', async () => {
    const server = await EmbeddingTestServer.start((_request, response, index) => {
      if (index < 2) sendJson(response, 503, { error: 'overloaded' });
      else sendJson(response, 200, [{ index: 1, score: 0.9 }, { index: 0, score: 0.1 }]);
    });
    try {
      const http = new HttpRerankProvider({ baseUrl: server.url, protocol: 'tei', maxAttempts: 3, backoff: fast });
      assert.deepEqual(await http.rerank('q', ['a', 'b']), [0.1, 0.9]);
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  it('does not retry a 400, and rejects malformed or partial answers', async () => {
    const answers: [number, unknown][] = [
      [400, { error: 'bad' }],
      [200, { results: 'nope' }],
      [200, { results: [{ index: 0, relevance_score: 1 }] }],
      [200, { results: [{ index: 7, relevance_score: 1 }, { index: 0, relevance_score: 1 }] }],
    ];
    const server = await EmbeddingTestServer.start((_request, response, index) => sendJson(response, answers[index]![0], answers[index]![1]));
    try {
      const http = new HttpRerankProvider({ baseUrl: server.url, protocol: 'cohere', maxAttempts: 3, backoff: fast });
      await assert.rejects(http.rerank('q', ['a', 'b']), /HTTP 400/);
      assert.equal(server.requests.length, 1);
      await assert.rejects(http.rerank('q', ['a', 'b']), /without a list of scores/);
      await assert.rejects(http.rerank('q', ['a', 'b']), /scored 1 of 2/);
      await assert.rejects(http.rerank('q', ['a', 'b']), /malformed score entry/);
    } finally {
      await server.close();
    }
  });

  it('times out a silent server per attempt, and the caller’s signal stops the retries at once', async () => {
    const server = await EmbeddingTestServer.start(() => undefined);
    try {
      const http = new HttpRerankProvider({ baseUrl: server.url, protocol: 'tei', timeoutMs: 100, maxAttempts: 2, backoff: fast });
      await assert.rejects(http.rerank('q', ['a']), /no answer within 100 ms/);
      assert.equal(server.requests.length, 2);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('search budget spent')), 50);
      const patient = new HttpRerankProvider({ baseUrl: server.url, protocol: 'tei', timeoutMs: 60_000, maxAttempts: 5, backoff: fast });
      await assert.rejects(patient.rerank('q', ['a'], { signal: controller.signal }), /search budget spent/);
    } finally {
      await server.close();
    }
  });

  it('never puts the API key in an error', async () => {
    const http = new HttpRerankProvider({ baseUrl: 'http://127.0.0.1:9', protocol: 'tei', apiKey: 'sk-very-secret', maxAttempts: 1 });
    await assert.rejects(http.rerank('q', ['a']), (error: Error) => !error.message.includes('sk-very-secret'));
  });
});
