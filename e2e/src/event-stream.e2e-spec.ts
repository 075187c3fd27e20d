import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTenant, signIn, startStack, type Session, type Stack } from './harness';
import { EventStreamClient, waitForGauge } from './event-stream';
import { createCollection, getDocument, markdownDocument, upload } from './ingestion-support';

const stageOrder = ['parse', 'chunk', 'embed', 'index'];

describe('live ingestion progress stream (SSE)', () => {
  let stack: Stack;
  let storageDir: string;
  let alice: Session;
  let bob: Session;
  let aliceCollection: string;
  let bobCollection: string;

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-sse-'));
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir, INGEST_BACKOFF_MS: '100' } });
    const tenantA = await createTenant(stack, 'ssea');
    const tenantB = await createTenant(stack, 'sseb');
    alice = await signIn(stack, tenantA.slug, tenantA.ownerEmail);
    bob = await signIn(stack, tenantB.slug, tenantB.ownerEmail);
    aliceCollection = (await createCollection(stack, alice, 'live')).id;
    bobCollection = (await createCollection(stack, bob, 'other')).id;
  });

  after(async () => {
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('opens with the event-stream headers and a snapshot of the collection', async () => {
    const stream = await EventStreamClient.expectOpen(stack, alice, `/v1/collections/${aliceCollection}/events`);
    try {
      assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(stream.response.headers.get('x-accel-buffering'), 'no');
      assert.match(stream.response.headers.get('cache-control') ?? '', /no-cache/);
      const snapshot = await stream.waitFor('snapshot', (event) => event.event === 'snapshot', 60_000);
      assert.equal(snapshot.data.collectionId, aliceCollection);
      assert.deepEqual(snapshot.data.inFlight, []);
    } finally {
      stream.close();
    }
  });

  it('streams a document through queued, every stage and indexed, in order; other tenants see none of it', async () => {
    const stream = await EventStreamClient.expectOpen(stack, alice, `/v1/collections/${aliceCollection}/events`);
    const bobStream = await EventStreamClient.expectOpen(stack, bob, `/v1/collections/${bobCollection}/events`);
    try {
      await stream.waitFor('snapshot', (event) => event.event === 'snapshot', 60_000);
      await bobStream.waitFor('snapshot', (event) => event.event === 'snapshot', 60_000);
      const result = await upload(stack, alice, aliceCollection, [{ name: 'guide.md', content: markdownDocument('Stream guide', 4), type: 'text/markdown' }]);
      assert.equal(result.status, 202, JSON.stringify(result.body));
      const documentId = result.body.items![0]!.document!.id;
      await stream.waitFor('indexed', (event) => event.data.documentId === documentId && event.data.phase === 'indexed');

      const events = stream.documentEvents(documentId).map((event) => event.data);
      const steps = events.map((event) => (event.stage ? `${event.stage as string}:${event.phase as string}` : (event.phase as string)));
      assert.deepEqual(steps, ['queued', ...stageOrder.flatMap((stage) => [`${stage}:started`, `${stage}:finished`]), 'indexed']);
      assert.deepEqual(
        events.map((event) => event.status),
        ['queued', 'parsing', 'parsing', 'chunking', 'chunking', 'embedding', 'embedding', 'indexing', 'indexing', 'indexed'],
      );
      const indexed = events.at(-1)!;
      const document = await getDocument(stack, alice, documentId);
      assert.deepEqual(indexed.counts, { chunks: document.chunkCount, embedded: document.chunkCount, cached: 0 });
      for (const event of events) {
        assert.equal(event.tenantId, alice.tenant.id);
        assert.equal(event.collectionId, aliceCollection);
        assert.ok(!JSON.stringify(event).includes('Stream guide'), 'events carry no document text');
      }

      // Bob's stream stayed open throughout and saw nothing of Alice's tenant.
      assert.ok(bobStream.events.length >= 1);
      assert.deepEqual(bobStream.events.filter((event) => event.event === 'document'), []);
      assert.ok(!bobStream.events.some((event) => JSON.stringify(event.data).includes(documentId)));
    } finally {
      stream.close();
      bobStream.close();
    }
  });

  it('reports a failing document with its reason code', async () => {
    const stream = await EventStreamClient.expectOpen(stack, alice, `/v1/collections/${aliceCollection}/events`);
    try {
      await stream.waitFor('snapshot', (event) => event.event === 'snapshot', 60_000);
      const garbage = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919 + 13) % 256));
      const result = await upload(stack, alice, aliceCollection, [{ name: 'broken.pdf', content: garbage, type: 'application/pdf' }]);
      assert.equal(result.status, 202, JSON.stringify(result.body));
      const documentId = result.body.items![0]!.document!.id;
      const failed = await stream.waitFor('failed', (event) => event.data.documentId === documentId && event.data.phase === 'failed');
      const document = await getDocument(stack, alice, documentId);
      assert.equal(document.status, 'failed');
      assert.equal(failed.data.status, 'failed');
      assert.equal(failed.data.stage, 'parse');
      assert.deepEqual(failed.data.error, { code: document.error!.code, message: document.error!.message });
      assert.ok(typeof document.error!.code === 'string' && document.error!.code.length > 0);
    } finally {
      stream.close();
    }
  });

  it('refuses anonymous callers (401) and collections of another tenant or none (404)', async () => {
    const anonymous = await EventStreamClient.open(stack, undefined, `/v1/collections/${aliceCollection}/events`);
    assert.ok(!(anonymous instanceof EventStreamClient));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHENTICATED');
    const foreign = await EventStreamClient.open(stack, bob, `/v1/collections/${aliceCollection}/events`);
    assert.ok(!(foreign instanceof EventStreamClient));
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.code, 'NOT_FOUND');
    const unknown = await EventStreamClient.open(stack, alice, '/v1/collections/00000000-0000-4000-8000-000000000000/events');
    assert.ok(!(unknown instanceof EventStreamClient));
    assert.equal(unknown.status, 404);
    await waitForGauge(stack, 'quarry_event_stream_listeners', 0);
  });

  it('shares one subscription per tenant and releases it when clients disconnect', async () => {
    await waitForGauge(stack, 'quarry_event_stream_listeners', 0);
    const first = await EventStreamClient.expectOpen(stack, alice, `/v1/collections/${aliceCollection}/events`);
    const second = await EventStreamClient.expectOpen(stack, alice, `/v1/collections/${aliceCollection}/events`);
    const third = await EventStreamClient.expectOpen(stack, bob, `/v1/collections/${bobCollection}/events`);
    await waitForGauge(stack, 'quarry_event_stream_listeners', 3);
    await waitForGauge(stack, 'quarry_event_stream_channels', 2);
    first.close();
    await waitForGauge(stack, 'quarry_event_stream_listeners', 2);
    await waitForGauge(stack, 'quarry_event_stream_channels', 2);
    second.close();
    third.close();
    await waitForGauge(stack, 'quarry_event_stream_listeners', 0);
    await waitForGauge(stack, 'quarry_event_stream_channels', 0);
  });
});
