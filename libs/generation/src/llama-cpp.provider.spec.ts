import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GenerationError, type GenerationEvent, type GenerationRequest } from './generation-provider';
import { LlamaCppGenerationProvider, type LlamaCppConfig } from './llama-cpp.provider';

const base: LlamaCppConfig = {
  cacheDir: join(__dirname, '../../../.quarry/models'),
  gpu: false,
  threads: 2,
  concurrency: 2,
  contextSize: 2048,
  queueTimeoutMs: 120_000,
  repeatPenalty: 1.1,
};
const provider = new LlamaCppGenerationProvider(base);

const france: GenerationRequest = {
  messages: [
    { role: 'system', content: 'You answer in one short sentence.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
  maxTokens: 40,
};

async function events(stream: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const all: GenerationEvent[] = [];
  for await (const event of stream) all.push(event);
  return all;
}

async function rejection(promise: Promise<unknown>): Promise<GenerationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GenerationError, `expected a GenerationError, got ${String(error)}`);
  return error;
}

describe('LlamaCppGenerationProvider (bundled TinyLlama, CPU)', { timeout: 600_000 }, () => {
  it('answers from the real model with exact token counts', async () => {
    const result = await provider.generate(france);
    assert.match(result.text, /Paris/);
    assert.equal(result.model, 'tinyllama-1.1b-chat-v1.0-iq2_xxs');
    assert.equal(result.finishReason, 'stop');
    assert.ok(result.usage.outputTokens > 0 && result.usage.outputTokens <= 40);
    // The prompt is the rendered chat template, so it counts more than the messages' own tokens.
    const contentTokens = (await provider.countTokens(france.messages[0]!.content)) + (await provider.countTokens(france.messages[1]!.content));
    assert.ok(result.usage.inputTokens > contentTokens, `${result.usage.inputTokens} > ${contentTokens}`);
  });

  it('streams several deltas and ends with exactly one done event', async () => {
    const all = await events(provider.stream(france));
    const deltas = all.filter((event) => event.type === 'delta');
    assert.ok(deltas.length >= 3);
    assert.equal(all.filter((event) => event.type === 'done').length, 1);
    assert.equal(all.at(-1)?.type, 'done');
  });

  it('counts tokens with the model tokenizer', async () => {
    assert.equal(await provider.countTokens('hello world'), 2);
    assert.ok((await provider.countTokens('Antidisestablishmentarianism')) > 3);
  });

  it('stops at maxTokens with finish reason length', async () => {
    const result = await provider.generate({ ...france, messages: [{ role: 'user', content: 'Tell me a long story about a dragon.' }], maxTokens: 5 });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.usage.outputTokens, 5);
  });

  it('stops before a stop string and leaves it out', async () => {
    const result = await provider.generate({ ...france, stop: ['Paris'] });
    assert.doesNotMatch(result.text, /Paris/);
    assert.match(result.text, /capital/i);
    assert.equal(result.finishReason, 'stop');
  });

  it('a cancelled stream ends with done/cancelled and bills only what was generated', async () => {
    const controller = new AbortController();
    const all: GenerationEvent[] = [];
    for await (const event of provider.stream({ messages: [{ role: 'user', content: 'Write a long poem about the sea.' }], maxTokens: 200, signal: controller.signal })) {
      all.push(event);
      if (all.length === 3) controller.abort();
    }
    const done = all.at(-1);
    assert.equal(done?.type, 'done');
    if (done?.type !== 'done') return;
    assert.equal(done.finishReason, 'cancelled');
    assert.ok(done.usage.outputTokens >= 3 && done.usage.outputTokens < 200, `${done.usage.outputTokens}`);
    assert.ok(done.usage.inputTokens > 0);
  });

  it('rejects a prompt larger than the context window', async () => {
    const huge = 'word '.repeat(5_000);
    const error = await rejection(provider.generate({ messages: [{ role: 'user', content: huge }], maxTokens: 10 }));
    assert.equal(error.kind, 'context_overflow');
    assert.equal(error.retryable, false);
  });

  it('rejects a request without messages or with a bad maxTokens', async () => {
    assert.equal((await rejection(provider.generate({ messages: [], maxTokens: 10 }))).kind, 'invalid_request');
    assert.equal((await rejection(provider.generate({ ...france, maxTokens: 0 }))).kind, 'invalid_request');
  });

  it('queues beyond its concurrency and times out a request that waits too long', async () => {
    const single = new LlamaCppGenerationProvider({ ...base, concurrency: 1, queueTimeoutMs: 300 });
    const holder: AsyncGenerator<GenerationEvent> = single.stream({ messages: [{ role: 'user', content: 'Write a long poem about the sea.' }], maxTokens: 200 });
    // Once the first delta arrives, the only sequence is taken.
    const first = await holder.next();
    assert.equal(first.done ? undefined : first.value.type, 'delta');

    const waited = await rejection(single.generate(france));
    assert.equal(waited.kind, 'timeout');
    assert.equal(waited.retryable, true);

    // Same runtime, longer queue timeout: a request cancelled while queued is billed nothing.
    const patient = new LlamaCppGenerationProvider({ ...base, concurrency: 1, queueTimeoutMs: 60_000 });
    const controller = new AbortController();
    const queued = patient.generate({ ...france, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const cancelled = await queued;
    assert.equal(cancelled.finishReason, 'cancelled');
    assert.deepEqual(cancelled.usage, { inputTokens: 0, outputTokens: 0 });

    // Closing the holder's stream frees the sequence for the next request.
    await holder.return(undefined);
    const next = await patient.generate({ ...france, maxTokens: 3 });
    assert.equal(next.usage.outputTokens, 3);
  });
});
