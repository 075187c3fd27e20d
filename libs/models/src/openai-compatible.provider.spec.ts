import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { EmbeddingError } from './embedding-provider';
import { OpenAiCompatibleEmbeddingProvider, type OpenAiCompatibleConfig } from './openai-compatible.provider';
import { EmbeddingTestServer, sendJson, type EmbeddingHandler, type ReceivedRequest } from './test-support/embedding-server';
import { assertVectorsClose } from './test-support/vector-assertions';
import { UseLiteEmbeddingProvider } from './use-lite.provider';

const apiKey = 'sk-test-0123456789abcdef';
const use = new UseLiteEmbeddingProvider();
const servers: EmbeddingTestServer[] = [];

async function serve(handler: EmbeddingHandler): Promise<EmbeddingTestServer> {
  const server = await EmbeddingTestServer.start(handler);
  servers.push(server);
  return server;
}

function client(server: EmbeddingTestServer, overrides: Partial<OpenAiCompatibleConfig> = {}): OpenAiCompatibleEmbeddingProvider {
  return new OpenAiCompatibleEmbeddingProvider({
    baseUrl: server.url,
    apiKey,
    model: 'use-lite-512',
    dimensions: 512,
    batchSize: 4,
    retry: { baseDelayMs: 10, maxDelayMs: 2_000 },
    ...overrides,
  });
}

/** A real embedding server: USE-Lite vectors, answered in reverse order as servers may, with usage. */
async function answerWithRealEmbeddings(request: ReceivedRequest, response: ServerResponse): Promise<void> {
  const input = request.body.input as string[];
  const { vectors, tokens } = await use.embedWithUsage(input);
  const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse();
  sendJson(response, 200, { object: 'list', model: request.body.model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

const inputSizes = (server: EmbeddingTestServer): number[] =>
  server.requests.map((request) => (request.body.input as string[]).length).sort((a, b) => b - a);

const texts = [
  'Aspirin reduces the risk of heart attack.',
  'Low-dose aspirin lowers cardiovascular risk.',
  'The telescope observed a distant galaxy.',
  'Vitamin D deficiency is common in winter.',
  'Stock prices fell sharply on Monday.',
  'Regular exercise improves sleep quality.',
  'The recipe calls for two cups of flour.',
  'Antibiotics do not treat viral infections.',
  'A new species of frog was found in Peru.',
  'Smoking is a major cause of lung cancer.',
];

describe('OpenAiCompatibleEmbeddingProvider against a real embedding server', () => {
  let real: EmbeddingTestServer;

  before(async () => {
    real = await serve(answerWithRealEmbeddings);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('splits input into batches and returns the real vectors in input order with usage', async () => {
    const provider = client(real);
    const before = real.requests.length;
    const result = await provider.embedWithUsage(texts);
    const direct = await use.embedWithUsage(texts);
    assert.equal(real.requests.length - before, 3);
    assert.deepEqual(inputSizes(real).slice(0, 3), [4, 4, 2]);
    assertVectorsClose(result.vectors, direct.vectors);
    assert.equal(result.tokens, direct.tokens);
    assert.ok(result.tokens > texts.length);
    const request = real.requests.at(-1)!;
    assert.equal(request.path, '/v1/embeddings');
    assert.equal(request.authorization, `Bearer ${apiKey}`);
    assert.equal(request.body.model, 'use-lite-512');
    assert.equal(request.body.encoding_format, 'float');
    assert.equal(request.body.dimensions, undefined);
  });

  it('answers a readiness check, accepts a base URL ending in /v1 and sends dimensions only when asked', async () => {
    await client(real, { baseUrl: `${real.url}/v1/`, sendDimensions: true }).check();
    const request = real.requests.at(-1)!;
    assert.equal(request.path, '/v1/embeddings');
    assert.equal(request.body.dimensions, 512);
  });

  it('puts the query instruction in front of queries only', async () => {
    const provider = client(real, { queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    const [asQuery] = await provider.embed(['aspirin and heart attacks'], { purpose: 'query' });
    assert.deepEqual(real.requests.at(-1)!.body.input, ['query: aspirin and heart attacks']);
    const [asDocument] = await provider.embed(['aspirin and heart attacks']);
    assert.deepEqual(real.requests.at(-1)!.body.input, ['passage: aspirin and heart attacks']);
    assert.notDeepEqual(asQuery, asDocument);
  });

  it('keeps the API key out of its serialised form and its errors', async () => {
    const provider = client(real);
    assert.ok(!JSON.stringify(provider).includes(apiKey));
    assert.ok(!inspect(provider, { depth: 5, showHidden: true }).includes(apiKey));
    const rejecting = await serve((request, response) => sendJson(response, 401, { error: 'bad key' }));
    await assert.rejects(client(rejecting).embed(['x']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.ok(!error.message.includes(apiKey) && !inspect(error).includes(apiKey));
      return true;
    });
  });

  it('never lets more requests fly than the limit, across concurrent calls', async () => {
    const slow = await serve(async (request, response) => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      await answerWithRealEmbeddings(request, response);
    });
    const provider = client(slow, { batchSize: 1, concurrency: 2 });
    const [first, second] = await Promise.all([provider.embed(texts.slice(0, 5)), provider.embed(texts.slice(5))]);
    assert.equal(slow.requests.length, 10);
    assert.equal(slow.maxInFlight, 2);
    // One text per request here, ten per batch there: equal up to float rounding.
    assertVectorsClose([...first, ...second], await use.embed(texts));
  });
});

describe('OpenAiCompatibleEmbeddingProvider when the server fails', () => {
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('waits as long as Retry-After asks after a 429, then succeeds', async () => {
    const server = await serve(async (request, response, index) => {
      if (index === 0) sendJson(response, 429, { error: 'slow down' }, { 'retry-after': '1' });
      else await answerWithRealEmbeddings(request, response);
    });
    const started = performance.now();
    const vectors = await client(server).embed(['hello']);
    assert.equal(server.requests.length, 2);
    assert.ok(performance.now() - started >= 990, 'retried before the server said it may');
    assertVectorsClose(vectors, await use.embed(['hello']));
  });

  it('retries 5xx answers with backoff until one succeeds', async () => {
    const server = await serve(async (request, response, index) => {
      if (index < 2) sendJson(response, index === 0 ? 500 : 503, { error: 'busy' });
      else await answerWithRealEmbeddings(request, response);
    });
    const vectors = await client(server, { maxAttempts: 3 }).embed(['hello']);
    assert.equal(server.requests.length, 3);
    assert.equal(vectors.length, 1);
  });

  it('retries a dropped connection', async () => {
    const server = await serve(async (request, response, index) => {
      if (index === 0) response.socket?.destroy();
      else await answerWithRealEmbeddings(request, response);
    });
    assert.equal((await client(server).embed(['hello'])).length, 1);
    assert.equal(server.requests.length, 2);
  });

  it('gives up after maxAttempts with a retryable error', async () => {
    const server = await serve((request, response) => sendJson(response, 502, { error: 'bad gateway' }));
    await assert.rejects(client(server, { maxAttempts: 2 }).embed(['hello']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.equal(error.retryable, true);
      assert.equal(error.status, 502);
      assert.match(error.message, /answered 502.*gave up after 2 attempts/);
      return true;
    });
    assert.equal(server.requests.length, 2);
  });

  it('fails at once, retryable, when Retry-After asks for longer than it will wait', async () => {
    const server = await serve((request, response) => sendJson(response, 429, {}, { 'retry-after': '120' }));
    await assert.rejects(client(server).embed(['hello']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.equal(error.retryable, true);
      assert.equal(error.retryAfterMs, 120_000);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('does not retry other 4xx answers', async () => {
    const server = await serve((request, response) => sendJson(response, 400, { error: 'input too long' }));
    await assert.rejects(client(server).embed(['hello']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.equal(error.retryable, false);
      assert.equal(error.status, 400);
      assert.match(error.message, /answered 400: \{"error":"input too long"\}/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('gives up on a server that never answers within the timeout', async () => {
    const server = await serve(() => undefined);
    const started = performance.now();
    await assert.rejects(client(server, { timeoutMs: 300, maxAttempts: 1 }).embed(['hello']), (error: unknown) => {
      assert.ok(error instanceof EmbeddingError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /no answer within 300 ms/);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 1_500, `took ${elapsed} ms`);
  });

  it('stops retrying as soon as the caller aborts', async () => {
    const server = await serve((request, response) => sendJson(response, 503, {}));
    const controller = new AbortController();
    const call = client(server, { retry: { baseDelayMs: 5_000, maxDelayMs: 10_000 } }).embed(['hello'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    await assert.rejects(call, { name: 'AbortError' });
    assert.ok(performance.now() - started < 1_000);
    assert.equal(server.requests.length, 1);
  });

  for (const [name, answer, pattern] of [
    ['a body that is not JSON', (response: ServerResponse) => void response.writeHead(200).end('<html>gateway</html>'), /not JSON/],
    ['a shape that is not an embeddings list', (response: ServerResponse) => sendJson(response, 200, { data: [{ index: 0, embedding: 'nope' }] }), /unexpected shape \(data\.0\.embedding/],
    ['vectors of the wrong dimension', (response: ServerResponse) => sendJson(response, 200, { data: [{ index: 0, embedding: [0.1, 0.2, 0.3] }] }), /3-dimensional vector; 512 expected/],
    ['the wrong number of vectors', (response: ServerResponse) => sendJson(response, 200, { data: [] }), /0 embeddings for 1 texts/],
  ] as const) {
    it(`rejects ${name}, without retrying`, async () => {
      const server = await serve((request, response) => answer(response));
      await assert.rejects(client(server).embed(['hello']), (error: unknown) => {
        assert.ok(error instanceof EmbeddingError);
        assert.equal(error.retryable, false);
        assert.match(error.message, pattern);
        return true;
      });
      assert.equal(server.requests.length, 1);
    });
  }

  it('rejects duplicate indices, and counts tokens itself when the server reports none', async () => {
    const duplicate = await serve((request, response) =>
      sendJson(response, 200, { data: [0, 0].map((index) => ({ index, embedding: new Array<number>(512).fill(0.1) })) }),
    );
    await assert.rejects(client(duplicate).embed(['a', 'b']), /index 0 twice/);
    const silent = await serve(async (request, response) => {
      const vectors = await use.embed(request.body.input as string[]);
      sendJson(response, 200, { data: vectors.map((embedding, index) => ({ index, embedding })) });
    });
    const { tokens } = await client(silent).embedWithUsage(['twelve chars', 'abcd']);
    assert.equal(tokens, 3 + 1);
  });

  it('checks readiness with a single request', async () => {
    const server = await serve((request, response) => sendJson(response, 500, {}));
    await assert.rejects(client(server).check(), EmbeddingError);
    assert.equal(server.requests.length, 1);
  });
});
