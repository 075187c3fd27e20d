import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AnthropicGenerationProvider,
  FallbackGenerationProvider,
  GenerationError,
  OpenAiCompatibleGenerationProvider,
  type GenerationEvent,
  type GenerationProvider,
  type GenerationRequest,
  type RemoteProviderConfig,
} from '@quarry/generation';
import { freePort, spawnModelServer, startModelServer, type ModelServerProcess, type RunningModelServer } from '@quarry/testing';

const apiKey = 'sk-test-secret-0123456789';
const france: GenerationRequest = {
  messages: [
    { role: 'system', content: 'You answer in one short sentence.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
  maxTokens: 40,
};
const fast = { retry: { baseDelayMs: 10, maxDelayMs: 2_000 }, timeouts: { firstTokenTimeoutMs: 10_000, idleTimeoutMs: 5_000 } };

async function collect(stream: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<GenerationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GenerationError, `expected a GenerationError, got ${String(error)}`);
  assert.doesNotMatch(error.message, new RegExp(apiKey));
  return error;
}

const textOf = (events: GenerationEvent[]): string => events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
const doneOf = (events: GenerationEvent[]): Extract<GenerationEvent, { type: 'done' }> => {
  const done = events.at(-1);
  assert.ok(done?.type === 'done', 'the stream ends with done');
  return done;
};

describe('remote generation providers against the real TinyLlama behind a model server process', { timeout: 600_000 }, () => {
  let server: ModelServerProcess;
  before(async () => {
    server = await spawnModelServer({ mode: 'real' });
  });
  after(async () => {
    await server.stop();
  });

  const config = (model = 'tinyllama'): RemoteProviderConfig => ({ baseUrl: server.url, apiKey, model, contextWindow: 2048, ...fast, timeouts: { firstTokenTimeoutMs: 120_000, idleTimeoutMs: 60_000 } });

  it('OpenAI-compatible: streams the real answer with the server usage', async () => {
    const provider = new OpenAiCompatibleGenerationProvider(config());
    const events = await collect(provider.stream(france));
    assert.match(textOf(events), /Paris/);
    assert.ok(events.filter((event) => event.type === 'delta').length >= 3);
    const done = doneOf(events);
    assert.equal(done.finishReason, 'stop');
    // Exact counts from the server's tokenizer: the rendered template is longer than the messages.
    assert.ok(done.usage.inputTokens > 20 && done.usage.outputTokens > 0 && done.usage.outputTokens <= 40);
  });

  it('OpenAI-compatible: answers without streaming, honouring maxTokens', async () => {
    const provider = new OpenAiCompatibleGenerationProvider({ ...config(), baseUrl: `${server.url}/v1` });
    const result = await provider.generate({ ...france, messages: [{ role: 'user', content: 'Tell me a long story about a dragon.' }], maxTokens: 6 });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.usage.outputTokens, 6);
    assert.ok(result.text.length > 0);
    assert.equal(result.model, 'tinyllama');
  });

  it('Anthropic Messages: streams and answers with usage from message_start/message_delta', async () => {
    const provider = new AnthropicGenerationProvider(config('claude-local'));
    const events = await collect(provider.stream(france));
    assert.match(textOf(events), /Paris/);
    const done = doneOf(events);
    assert.ok(done.usage.outputTokens > 0);
    const result = await provider.generate({ ...france, maxTokens: 4 });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.usage.outputTokens, 4);
  });
});

describe('remote generation providers: faults, retries, timeouts, cancellation', { timeout: 120_000 }, () => {
  let server: RunningModelServer;
  before(async () => {
    server = await startModelServer({ mode: 'paced', tokensPerSecond: 200, pacedTokens: 20 });
  });
  after(async () => {
    await server.close();
  });

  const openai = (model: string, overrides: Partial<RemoteProviderConfig> = {}): OpenAiCompatibleGenerationProvider =>
    new OpenAiCompatibleGenerationProvider({ baseUrl: server.url, apiKey, model, contextWindow: 2048, ...fast, ...overrides });
  const anthropic = (model: string, overrides: Partial<RemoteProviderConfig> = {}): AnthropicGenerationProvider =>
    new AnthropicGenerationProvider({ baseUrl: server.url, apiKey, model, contextWindow: 2048, ...fast, ...overrides });
  const requestsFor = (model: string): number => server.requests.filter((request) => request.body['model'] === model).length;

  it('sends the key as the protocol expects and asks for usage in the stream', async () => {
    await openai('paced').generate(france);
    await collect(openai('paced').stream(france));
    await anthropic('paced').generate(france);
    const [plain, streamed, messages] = server.requests.slice(-3);
    assert.equal(plain?.authorization, `Bearer ${apiKey}`);
    assert.deepEqual(streamed?.body['stream_options'], { include_usage: true });
    assert.equal(messages?.apiKey, apiKey);
    assert.equal(messages?.body['system'], 'You answer in one short sentence.');
  });

  it('a server that is down is unavailable after every attempt', async () => {
    const port = await freePort();
    const error = await failure(openai('paced', { baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 2 }).generate(france));
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.retryable, true);
    assert.match(error.message, /gave up after 2 attempts/);
  });

  it('500s are retried with backoff, then reported as unavailable', async () => {
    const error = await failure(openai('fault:500', { maxAttempts: 3 }).generate(france));
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.status, 500);
    assert.equal(requestsFor('fault:500'), 3);
  });

  it('a flaky server succeeds on a later attempt', async () => {
    const result = await openai('fault:flaky:2', { maxAttempts: 3 }).generate(france);
    assert.ok(result.text.length > 0);
    assert.equal(requestsFor('fault:flaky:2'), 3);
  });

  it('429 is rate_limited and its Retry-After is honoured before the retry', async () => {
    const started = Date.now();
    const error = await failure(openai('fault:429:1', { maxAttempts: 2 }).generate(france));
    assert.equal(error.kind, 'rate_limited');
    assert.equal(error.retryAfterMs, 1_000);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    const anthropicError = await failure(anthropic('fault:429:1', { maxAttempts: 1 }).generate(france));
    assert.equal(anthropicError.kind, 'rate_limited');
  });

  it('garbage, streamed or not, is bad_response; an empty stream is empty_response', async () => {
    assert.equal((await failure(collect(openai('fault:garbage').stream(france)))).kind, 'bad_response');
    assert.equal((await failure(openai('fault:garbage').generate(france))).kind, 'bad_response');
    assert.equal((await failure(collect(anthropic('fault:garbage').stream(france)))).kind, 'bad_response');
    assert.equal((await failure(collect(openai('fault:empty').stream(france)))).kind, 'empty_response');
    assert.equal((await failure(openai('fault:empty').generate(france))).kind, 'empty_response');
    assert.equal((await failure(collect(anthropic('fault:empty').stream(france)))).kind, 'empty_response');
  });

  it('a stall after some tokens times out without a retry and reports the partial usage', async () => {
    const events: GenerationEvent[] = [];
    const error = await failure(
      (async () => {
        for await (const event of openai('fault:stall:3', { timeouts: { idleTimeoutMs: 400 } }).stream(france)) events.push(event);
      })(),
    );
    assert.equal(error.kind, 'timeout');
    assert.equal(events.length, 3);
    assert.equal(error.partialUsage?.outputTokens, 3);
    assert.equal(requestsFor('fault:stall:3'), 1);
  });

  it('a slow first token times out per attempt', async () => {
    const error = await failure(openai('fault:slow:5000', { maxAttempts: 1, timeouts: { firstTokenTimeoutMs: 300 } }).generate(france));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /no text within 300 ms/);
  });

  it('a cancelled stream ends with done/cancelled and counts only the streamed tokens', async () => {
    for (const provider of [openai('paced'), anthropic('paced')] as GenerationProvider[]) {
      const controller = new AbortController();
      const events: GenerationEvent[] = [];
      for await (const event of provider.stream({ ...france, signal: controller.signal })) {
        events.push(event);
        if (events.length === 2) controller.abort();
      }
      const done = doneOf(events);
      assert.equal(done.finishReason, 'cancelled');
      assert.equal(done.usage.outputTokens, 2);
    }
  });

  it('a bad request is not retried', async () => {
    const error = await failure(openai('paced').generate({ ...france, messages: [] }));
    assert.equal(error.kind, 'invalid_request');
  });

  describe('fallback chain', () => {
    it('falls back when the primary errors and names the model that answered', async () => {
      const chain = new FallbackGenerationProvider([openai('fault:500', { maxAttempts: 1 }), anthropic('paced')]);
      const events = await collect(chain.stream(france));
      assert.equal(doneOf(events).model, 'paced');
      assert.ok(textOf(events).length > 0);
      assert.equal((await chain.generate(france)).model, 'paced');
    });

    it('falls back when the primary is too slow to its first token', async () => {
      const chain = new FallbackGenerationProvider([openai('fault:slow:5000'), openai('paced')], { firstTokenTimeoutMs: 300 });
      const result = await chain.generate(france);
      assert.equal(result.model, 'paced');
    });

    it('skips the primary when asked (budget fallback)', async () => {
      const chain = new FallbackGenerationProvider([openai('fault:500'), openai('paced')]);
      const cheaper = chain.withoutPrimary();
      assert.ok(cheaper);
      assert.equal((await cheaper.generate(france)).model, 'paced');
      assert.equal(new FallbackGenerationProvider([openai('paced')]).withoutPrimary(), undefined);
    });

    it('never falls back after text was streamed, and says so', async () => {
      const chain = new FallbackGenerationProvider([openai('fault:stall:2', { timeouts: { idleTimeoutMs: 300 } }), openai('paced')]);
      const before = requestsFor('paced');
      const error = await failure(collect(chain.stream(france)));
      assert.equal(error.kind, 'timeout');
      assert.equal(error.retryable, false);
      assert.match(error.message, /already been streamed/);
      assert.equal(requestsFor('paced'), before);
    });

    it('fails with every model named when all fail, and at once for a request no model could answer', async () => {
      const chain = new FallbackGenerationProvider([openai('fault:500', { maxAttempts: 1 }), anthropic('fault:garbage')]);
      const error = await failure(chain.generate(france));
      assert.match(error.message, /fault:500.*fault:garbage/s);
      const invalid = await failure(chain.generate({ ...france, maxTokens: 0 }));
      assert.equal(invalid.kind, 'invalid_request');
    });
  });
});
