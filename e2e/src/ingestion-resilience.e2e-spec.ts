import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requiredEnv } from '@quarry/testing';
import { Queue } from 'bullmq';
import {
  createTenant,
  expectStatus,
  freePort,
  HttpClient,
  signIn,
  startStack,
  uniqueSlug,
  type EnvOverrides,
  type Session,
  type Stack,
} from './harness';
import {
  createCollection,
  getDocument,
  markdownDocument,
  ownerQuery,
  upload,
  waitForStatus,
  type Collection,
  type DocumentBody,
  type FileSpec,
  type StageRun,
} from './ingestion-support';

/**
 * Ingestion under stress: a worker killed mid-job, tenants competing for one worker, tenants with workers
 * of their own, and documents re-processed in the background (bulk re-index, settings change, scheduled
 * URL refresh). Each block runs its own API and worker(s) sharing one temporary storage directory.
 */

async function storageDirectory(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'quarry-e2e-resilience-'));
}

/** Env for every process of a stack: shared storage, fast retries. */
function stackEnv(storageDir: string, extra: EnvOverrides = {}): EnvOverrides {
  return { STORAGE_LOCAL_DIR: storageDir, INGEST_BACKOFF_MS: '100', ...extra };
}

function runs(doc: DocumentBody, stage: string, status?: string): StageRun[] {
  return (doc.stages ?? []).filter((run) => run.stage === stage && (status === undefined || run.status === status));
}

function describeRuns(doc: DocumentBody): string {
  return (doc.stages ?? []).map((run) => `${run.stage}#${run.attempt}:${run.status}`).join(', ');
}

/** Polls `check` until it answers true; fails with `what` (and the last observation) after `timeoutMs`. */
async function waitUntil(what: string, check: () => Promise<boolean | string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: boolean | string = false;
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await sleep(150);
  }
  assert.fail(`${what}: not met within ${timeoutMs} ms${typeof last === 'string' ? ` (last: ${last})` : ''}`);
}

/** Waits until the document has `count` succeeded index runs and is indexed again. */
async function waitForIndexRuns(stack: Stack, as: Session, id: string, count: number, timeoutMs = 45_000): Promise<DocumentBody> {
  let doc: DocumentBody | undefined;
  await waitUntil(
    `document ${id} indexed with ${count} index runs`,
    async () => {
      doc = await getDocument(stack, as, id);
      assert.notEqual(doc.status, 'failed', `document ${id} failed: ${JSON.stringify(doc.error)}`);
      return (doc.status === 'indexed' && runs(doc, 'index', 'succeeded').length === count) || `${doc.status}: ${describeRuns(doc)}`;
    },
    timeoutMs,
  );
  return doc!;
}

/** Every chunk row of a document, in ordinal order, straight from Postgres. */
async function chunkRows(documentId: string): Promise<{ ordinal: number; text: string; has_vector: boolean }[]> {
  return ownerQuery<{ ordinal: number; text: string; has_vector: boolean }>(
    'SELECT ordinal, text, embedding IS NOT NULL AS has_vector FROM chunks WHERE document_id = $1 ORDER BY ordinal',
    [documentId],
  );
}

/** The value of the sample of `name` whose labels include `label`, or undefined. */
function sampleValue(metrics: string, name: string, label: string): number | undefined {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(label));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function redisConnection(): { host: string; port: number; maxRetriesPerRequest: null } {
  const url = new URL(requiredEnv('REDIS_URL'));
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
}

function smallDocuments(prefix: string, count: number): FileSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${i + 1}.md`,
    content: markdownDocument(`${prefix} note ${i + 1}`, 1, ` ${prefix}${i + 1}`),
    type: 'text/markdown',
  }));
}

async function uploadIds(stack: Stack, as: Session, collectionId: string, files: FileSpec[]): Promise<string[]> {
  const result = await upload(stack, as, collectionId, files);
  assert.equal(result.status, 202, JSON.stringify(result.body));
  const items = result.body.items ?? [];
  assert.equal(items.length, files.length);
  for (const item of items) assert.ok(item.document && item.error === null && !item.duplicate, `${item.file}: ${JSON.stringify(item)}`);
  return items.map((item) => item.document!.id);
}

describe('worker crashes and long jobs (INGEST_LOCK_MS=2000)', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;
  let collection: Collection;

  before(async () => {
    storageDir = await storageDirectory();
    stack = await startStack({ env: stackEnv(storageDir, { INGEST_LOCK_MS: '2000', INGEST_CONCURRENCY: '1' }) });
    const tenant = await createTenant(stack, 'crash');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    collection = await createCollection(stack, admin, 'crash', { chunking: { maxTokens: 64, overlapTokens: 8 } });
  });

  after(async () => {
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('SIGKILL during embedding: a fresh worker takes the job over and the document is indexed exactly once', async () => {
    const [id] = await uploadIds(stack, admin, collection.id, [{ name: 'big.md', content: markdownDocument('Big', 300), type: 'text/markdown' }]);
    await waitForStatus(stack, admin, id!, ['embedding'], 45_000);
    const killed = await stack.worker!.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const orphaned = await getDocument(stack, admin, id!);
    assert.equal(orphaned.status, 'embedding', 'with no worker alive, the document stays where the killed worker left it');

    const replacement = await stack.startWorker({}, 'replacement-worker');
    const indexed = await waitForStatus(stack, admin, id!, ['indexed'], 180_000);
    const doc = await getDocument(stack, admin, indexed.id);
    assert.equal(doc.status, 'indexed');
    assert.equal(doc.error, null);
    assert.ok(doc.chunkCount > 50, `a large document has many chunks (got ${doc.chunkCount})`);

    // Exactly one set of chunks: as many rows as chunkCount, ordinals 0..n-1 each once, every one embedded.
    const rows = await chunkRows(doc.id);
    assert.equal(rows.length, doc.chunkCount, 'chunk rows in Postgres');
    assert.deepEqual(
      rows.map((row) => row.ordinal),
      Array.from({ length: doc.chunkCount }, (_, i) => i),
      'ordinals are 0..n-1, each exactly once',
    );
    assert.ok(rows.every((row) => row.has_vector), 'every chunk has its vector');

    const stages = describeRuns(doc);
    assert.equal(runs(doc, 'index', 'succeeded').length, 1, `the index stage succeeded exactly once: ${stages}`);
    assert.equal(runs(doc, 'index').length, 1, `the killed worker never reached index: ${stages}`);
    const embeds = runs(doc, 'embed');
    // The next worker closes the dead worker's run as interrupted, with a reason, before it starts over.
    const interrupted = embeds.findIndex((run) => run.status === 'interrupted');
    assert.ok(interrupted >= 0, `the killed worker's embed run is recorded as interrupted: ${stages}`);
    assert.match(embeds[interrupted]!.error ?? '', /WORKER_LOST/);
    assert.ok(embeds[interrupted]!.finishedAt, 'the interrupted run is closed');
    assert.equal(runs(doc, 'embed', 'running').length, 0, 'no run is left running');
    const resumed = embeds.findIndex((run, index) => index > interrupted && run.status === 'succeeded');
    assert.ok(resumed > interrupted, `a later embed run succeeded: ${stages}`);
    assert.equal(embeds.at(-1)?.status, 'succeeded', stages);
    assert.ok(!replacement.hasExited, replacement.describe());
    stack.http.assertNoServerErrors();
  });

  it("a tenant's running document keeps its slot through a long stage: with INGEST_TENANT_CONCURRENCY=1 its next document waits", async () => {
    // A fresh worker that could run two jobs at once, but the tenant may only run one.
    await Promise.all([stack.worker!.stop(), ...stack.extraWorkers.map((worker) => worker.stop())]);
    await stack.startWorker({ INGEST_CONCURRENCY: '2', INGEST_TENANT_CONCURRENCY: '1' }, 'two-slot-worker');
    // Embedding this one takes longer than 2 x INGEST_LOCK_MS (after which a slot counts as abandoned).
    const [bigId] = await uploadIds(stack, admin, collection.id, [
      { name: 'long.md', content: markdownDocument('Long haul', 400, ' long'), type: 'text/markdown' },
    ]);
    await waitForStatus(stack, admin, bigId!, ['embedding'], 45_000);
    const [smallId] = await uploadIds(stack, admin, collection.id, smallDocuments('after-long', 1));
    // Generous waits: on a loaded 2-core machine embedding the long document alone took over a minute.
    const big = await getDocument(stack, admin, (await waitForStatus(stack, admin, bigId!, ['indexed'], 240_000)).id);
    const small = await getDocument(stack, admin, (await waitForStatus(stack, admin, smallId!, ['indexed'], 120_000)).id);
    const bigEmbed = runs(big, 'embed', 'succeeded').at(-1)!;
    const bigDone = Date.parse(runs(big, 'index', 'succeeded').at(-1)!.finishedAt!);
    const smallStart = Date.parse(small.stages![0]!.startedAt);
    assert.ok(
      smallStart >= bigDone,
      `the tenant's second document started ${((bigDone - smallStart) / 1000).toFixed(1)} s before its first was done ` +
        `(embed of the first took ${String(bigEmbed.durationMs)} ms): the tenant ran 2 jobs at once with INGEST_TENANT_CONCURRENCY=1`,
    );
  });
});

describe('fair scheduling between tenants on one worker', () => {
  let stack: Stack;
  let storageDir: string;
  let heavy: Session;
  let light: Session;
  let heavyCollection: Collection;
  let lightCollection: Collection;

  before(async () => {
    storageDir = await storageDirectory();
    stack = await startStack({ env: stackEnv(storageDir, { INGEST_CONCURRENCY: '1', INGEST_TENANT_CONCURRENCY: '1' }) });
    const [a, b] = await Promise.all([createTenant(stack, 'fair-a'), createTenant(stack, 'fair-b')]);
    [heavy, light] = await Promise.all([signIn(stack, a.slug, a.ownerEmail), signIn(stack, b.slug, b.ownerEmail)]);
    [heavyCollection, lightCollection] = await Promise.all([
      createCollection(stack, heavy, 'backlog'),
      createCollection(stack, light, 'few'),
    ]);
  });

  after(async () => {
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it("a tenant's 3 documents are indexed while another tenant's 40-document backlog is still mostly waiting", async () => {
    const heavyIds = await uploadIds(stack, heavy, heavyCollection.id, smallDocuments('a', 40));

    // While A's backlog exists, the worker exports how much of it waits and for how long.
    const metrics = await new HttpClient(stack.workerUrl).get('/metrics');
    assert.equal(metrics.status, 200);
    const tenantLabel = `tenant="${heavy.tenant.id}"`;
    const waiting = sampleValue(metrics.text, 'quarry_ingest_tenant_waiting', tenantLabel);
    const lag = sampleValue(metrics.text, 'quarry_ingest_tenant_lag_seconds', tenantLabel);
    assert.ok(waiting !== undefined && waiting > 0, `quarry_ingest_tenant_waiting for A > 0, got ${String(waiting)}`);
    assert.ok(lag !== undefined && lag > 0, `quarry_ingest_tenant_lag_seconds for A > 0, got ${String(lag)}`);

    const lightIds = await uploadIds(stack, light, lightCollection.id, smallDocuments('b', 3));
    await Promise.all(lightIds.map((id) => waitForStatus(stack, light, id, ['indexed'], 60_000)));
    const [{ pending = '0' } = {}] = await ownerQuery<{ pending: string }>(
      `SELECT count(*) AS pending FROM documents WHERE id = ANY($1::uuid[]) AND status <> 'indexed'`,
      [heavyIds],
    );
    assert.ok(Number(pending) >= 20, `B's documents waited behind A's backlog: only ${pending} of A's 40 were still not indexed`);

    // A's backlog drains too, and nothing is left waiting.
    await waitUntil(
      "all of A's documents indexed",
      async () => {
        const [{ n = '0' } = {}] = await ownerQuery<{ n: string }>(
          `SELECT count(*) AS n FROM documents WHERE id = ANY($1::uuid[]) AND status = 'indexed'`,
          [heavyIds],
        );
        return Number(n) === heavyIds.length || `${n} of ${heavyIds.length} indexed`;
      },
      60_000,
    );
    const drained = await new HttpClient(stack.workerUrl).get('/metrics');
    assert.equal(sampleValue(drained.text, 'quarry_ingest_tenant_waiting', tenantLabel) ?? 0, 0, 'nothing waits once the backlog is done');
    stack.http.assertNoServerErrors();
  });
});

describe('a dedicated worker pool for one tenant', () => {
  const dedicatedSlug = uniqueSlug('dedicated');
  let stack: Stack;
  let storageDir: string;
  let dedicated: Session;
  let shared: Session;
  let dedicatedCollection: Collection;
  let sharedCollection: Collection;

  before(async () => {
    storageDir = await storageDirectory();
    // The slug is chosen here, so the API can route the tenant to its own queue from the start.
    stack = await startStack({ env: stackEnv(storageDir, { INGEST_DEDICATED_TENANTS: dedicatedSlug }) });
    const [d, s] = await Promise.all([createTenant(stack, 'dedicated', dedicatedSlug), createTenant(stack, 'shared')]);
    assert.equal(d.tenant.slug, dedicatedSlug);
    [dedicated, shared] = await Promise.all([signIn(stack, d.slug, d.ownerEmail), signIn(stack, s.slug, s.ownerEmail)]);
    [dedicatedCollection, sharedCollection] = await Promise.all([
      createCollection(stack, dedicated, 'own-pool'),
      createCollection(stack, shared, 'shared-pool'),
    ]);
  });

  after(async () => {
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it("the shared worker leaves the dedicated tenant's documents alone; a worker started for that tenant indexes them", async () => {
    const [dedicatedId] = await uploadIds(stack, dedicated, dedicatedCollection.id, smallDocuments('ded', 1));
    const [sharedId] = await uploadIds(stack, shared, sharedCollection.id, smallDocuments('shr', 1));
    await waitForStatus(stack, shared, sharedId!, ['indexed'], 30_000);

    const queue = new Queue(`ingest-${dedicatedSlug}`, { prefix: `${stack.redisPrefix}:bull`, connection: redisConnection() });
    try {
      const job = await queue.getJob(`doc-${dedicatedId!}`);
      assert.ok(job, `the dedicated tenant's job is on queue ingest-${dedicatedSlug}`);
      const watchUntil = Date.now() + 3_000;
      while (Date.now() < watchUntil) {
        const doc = await getDocument(stack, dedicated, dedicatedId!);
        assert.equal(doc.status, 'queued', `the shared worker must not process the dedicated tenant's document: ${describeRuns(doc)}`);
        assert.equal((doc.stages ?? []).length, 0);
        await sleep(250);
      }

      const own = await stack.startWorker({ WORKER_TENANTS: dedicatedSlug }, 'dedicated-worker');
      const indexed = await getDocument(stack, dedicated, (await waitForStatus(stack, dedicated, dedicatedId!, ['indexed'], 45_000)).id);
      assert.deepEqual(runs(indexed, 'index', 'succeeded').length, 1);
      assert.equal(await queue.getJob(`doc-${dedicatedId!}`), undefined, 'the finished job is gone from the dedicated queue');

      // The dedicated worker serves only its tenant: the shared tenant's next document is still done by the shared worker.
      await stack.worker!.stop();
      const [laterId] = await uploadIds(stack, shared, sharedCollection.id, smallDocuments('shr-later', 1));
      await sleep(1_500);
      assert.equal((await getDocument(stack, shared, laterId!)).status, 'queued', 'the dedicated worker does not take shared work');
      assert.ok(!own.hasExited);
    } finally {
      await queue.close();
    }
    stack.http.assertNoServerErrors();
  });
});

describe('re-processing in the background: bulk re-index, settings change, scheduled URL refresh', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;

  before(async () => {
    storageDir = await storageDirectory();
    // The worker fetches URL sources, so it needs the private-host allowance too (the env is shared).
    stack = await startStack({ env: stackEnv(storageDir, { URL_ALLOW_PRIVATE_HOSTS: 'true', INGEST_CONCURRENCY: '2' }) });
    const tenant = await createTenant(stack, 'reproc');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
  });

  after(async () => {
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('POST /reindex from chunk re-runs chunk/embed/index from the cache; a chunking change re-chunks every document', async () => {
    const collection = await createCollection(stack, admin, 'reindexed', { chunking: { maxTokens: 200, overlapTokens: 20 } });
    const ids = await uploadIds(stack, admin, collection.id, [
      { name: 'one.md', content: markdownDocument('Reindex one', 8), type: 'text/markdown' },
      { name: 'two.md', content: markdownDocument('Reindex two', 10), type: 'text/markdown' },
    ]);
    const first = await Promise.all(ids.map((id) => waitForIndexRuns(stack, admin, id, 1)));

    const reindex = await stack.http.post<{ queued: number }>(`/v1/collections/${collection.id}/reindex`, {
      as: admin,
      json: { fromStage: 'chunk' },
    });
    assert.deepEqual(expectStatus(reindex, 202, 'reindex'), { queued: ids.length });
    const second = await Promise.all(ids.map((id) => waitForIndexRuns(stack, admin, id, 2)));
    for (const [i, doc] of second.entries()) {
      const stages = describeRuns(doc);
      assert.equal(runs(doc, 'parse').length, 1, `re-index from chunk does not parse again: ${stages}`);
      assert.equal(runs(doc, 'chunk', 'succeeded').length, 2, stages);
      assert.equal(runs(doc, 'embed', 'succeeded').length, 2, stages);
      const embed = runs(doc, 'embed').at(-1)!;
      assert.equal(Number(embed.details.embedded), 0, `every vector came from the cache: ${JSON.stringify(embed.details)}`);
      assert.equal(Number(embed.details.cached), doc.chunkCount, JSON.stringify(embed.details));
      assert.equal(doc.chunkCount, first[i]!.chunkCount, 'same settings, same chunks');
      assert.equal((await chunkRows(doc.id)).length, doc.chunkCount);
    }

    const patched = await stack.http.patch<Collection>(`/v1/collections/${collection.id}`, {
      as: admin,
      json: { settings: { chunking: { maxTokens: 64, overlapTokens: 8 } } },
    });
    assert.equal(expectStatus(patched, 200, 'change chunking').settings.chunking.maxTokens, 64);
    const third = await Promise.all(ids.map((id) => waitForIndexRuns(stack, admin, id, 3)));
    for (const [i, doc] of third.entries()) {
      const stages = describeRuns(doc);
      assert.ok(doc.chunkCount > first[i]!.chunkCount, `smaller chunks, more of them: ${first[i]!.chunkCount} -> ${doc.chunkCount}`);
      assert.equal(runs(doc, 'parse').length, 1, stages);
      assert.equal(Number(runs(doc, 'chunk').at(-1)!.details.maxTokens), 64, stages);
      const rows = await chunkRows(doc.id);
      assert.deepEqual(
        rows.map((row) => row.ordinal),
        Array.from({ length: doc.chunkCount }, (_, k) => k),
        'the new chunks replaced the old ones',
      );
    }
    stack.http.assertNoServerErrors();
  });

  it('a chunking change made while a document is being embedded still applies to that document', async () => {
    const collection = await createCollection(stack, admin, 'moving-target', { chunking: { maxTokens: 64, overlapTokens: 8 } });
    const [id] = await uploadIds(stack, admin, collection.id, [
      { name: 'moving.md', content: markdownDocument('Moving target', 120, ' mt'), type: 'text/markdown' },
    ]);
    await waitForStatus(stack, admin, id!, ['embedding'], 30_000);
    const patched = await stack.http.patch<Collection>(`/v1/collections/${collection.id}`, {
      as: admin,
      json: { settings: { chunking: { maxTokens: 400, overlapTokens: 20 } } },
    });
    assert.equal(expectStatus(patched, 200, 'change chunking mid-ingestion').settings.chunking.maxTokens, 400);
    const firstPass = await waitForStatus(stack, admin, id!, ['indexed'], 45_000);
    // The change was accepted while the old settings were in use: the document must be chunked again.
    let doc = firstPass;
    await waitUntil(
      'document re-chunked with maxTokens 400',
      async () => {
        doc = await getDocument(stack, admin, id!);
        const lastChunk = runs(doc, 'chunk').at(-1);
        return (doc.status === 'indexed' && Number(lastChunk?.details.maxTokens) === 400) || `${doc.status}: ${describeRuns(doc)}`;
      },
      90_000,
    );
    // The first pass may already be superseded by the time it is observed: compare with its chunk run.
    const firstChunking = Number(runs(doc, 'chunk')[0]?.details.chunks);
    assert.equal(Number(runs(doc, 'chunk')[0]?.details.maxTokens), 64);
    assert.ok(doc.chunkCount < firstChunking, `fewer, larger chunks: ${firstChunking} -> ${doc.chunkCount} (first pass observed ${firstPass.chunkCount})`);
    assert.equal((await chunkRows(id!)).length, doc.chunkCount);
  });

  it('a sources.refresh job re-fetches a URL source whose interval has passed and re-indexes its new content', async () => {
    const collection = await createCollection(stack, admin, 'web');
    let body = markdownDocument('Harbour report', 3, ' first edition');
    let etag = '"e1"';
    let fetches = 0;
    const server: Server = createServer((req, res) => {
      fetches += 1;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/markdown', etag }).end(body);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const maintenance = new Queue('maintenance', { prefix: `${stack.redisPrefix}:bull`, connection: redisConnection() });
    try {
      // Only this test's job may trigger the refresh: the worker's minutely schedule is taken away.
      await maintenance.removeJobScheduler('sources.refresh.minutely');
      const created = await stack.http.post<{ document: DocumentBody; duplicate: boolean }>(`/v1/collections/${collection.id}/sources`, {
        as: admin,
        json: { url: `http://127.0.0.1:${port}/harbour.md`, refreshIntervalMinutes: 5 },
      });
      const sourceId = expectStatus(created, 202, 'register source').document.id;
      const first = await getDocument(stack, admin, (await waitForStatus(stack, admin, sourceId, ['indexed'], 30_000)).id);
      assert.equal(runs(first, 'fetch', 'succeeded').length, 1);
      assert.equal(fetches, 1);

      body = markdownDocument('Harbour report', 3, ' second edition with lighthouse keepers');
      etag = '"e2"';
      const updated = await ownerQuery<{ id: string }>(
        `UPDATE documents SET last_checked_at = now() - interval '10 minutes' WHERE id = $1 RETURNING id`,
        [sourceId],
      );
      assert.equal(updated.length, 1);
      const job = await maintenance.add('sources.refresh', { v: 1, payload: { limit: 100 } });
      await waitUntil(
        'sources.refresh job finished',
        async () => {
          const state = await job.getState();
          return state === 'completed' || state === 'failed' || state;
        },
        20_000,
      );
      const finished = await maintenance.getJob(job.id!);
      assert.equal(await finished?.getState(), 'completed', `sources.refresh: ${finished?.failedReason ?? ''}`);
      const result = finished?.returnvalue as { queued?: number } | undefined;
      assert.ok((result?.queued ?? 0) >= 1, `the due source was queued: ${JSON.stringify(result)}`);

      const refreshed = await waitForIndexRuns(stack, admin, sourceId, 2);
      const stages = describeRuns(refreshed);
      assert.equal(runs(refreshed, 'fetch', 'succeeded').length, 2, `re-fetched once: ${stages}`);
      assert.equal(fetches, 2, 'one more request to the source');
      assert.equal(refreshed.stale, false);
      const rows = await chunkRows(sourceId);
      assert.equal(rows.length, refreshed.chunkCount);
      const text = rows.map((row) => row.text).join('\n');
      assert.match(text, /second edition with lighthouse keepers/, 'the new content is indexed');
      assert.doesNotMatch(text, /first edition/, 'the old content is gone');
      const [checked] = await ownerQuery<{ recent: boolean }>(
        `SELECT last_checked_at > now() - interval '1 minute' AS recent FROM documents WHERE id = $1`,
        [sourceId],
      );
      assert.equal(checked?.recent, true, 'the refresh records when the source was checked');
    } finally {
      await maintenance.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    stack.http.assertNoServerErrors();
  });
});
