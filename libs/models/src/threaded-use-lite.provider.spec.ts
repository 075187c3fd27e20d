import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ThreadedUseLiteEmbeddingProvider } from './threaded-use-lite.provider';
import { UseLiteEmbeddingProvider } from './use-lite.provider';

describe('USE-Lite on a worker thread', () => {
  const threaded = new ThreadedUseLiteEmbeddingProvider();
  after(() => threaded.close());

  it('returns the same vectors as the in-process model, without blocking the calling thread', async () => {
    const texts = ['Mitochondria produce ATP.', 'Ribosomes make proteins.', 'The weather is nice today.'];
    await threaded.check(); // load the model first, so the timing below is inference only
    const many = Array.from({ length: 64 }, (_, i) => `Passage ${i} about cells, proteins and energy in living organisms.`);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    const started = Date.now();
    await threaded.embed(many);
    const took = Date.now() - started;
    clearInterval(timer);
    // In-process, the 5 ms timer could not fire during a forward pass; here it keeps firing.
    assert.ok(ticks >= Math.floor(took / 5 / 2), `event loop ticked ${ticks} times in ${took} ms`);
    const fromThread = await threaded.embed(texts);
    const inProcess = await new UseLiteEmbeddingProvider().embed(texts);
    assert.equal(fromThread.length, 3);
    fromThread.forEach((vector, i) => vector.forEach((value, j) => assert.ok(Math.abs(value - inProcess[i]![j]!) < 1e-6)));
  });

  it('refuses blank texts like the in-process model', async () => {
    await assert.rejects(threaded.embed(['  ']));
  });
});
