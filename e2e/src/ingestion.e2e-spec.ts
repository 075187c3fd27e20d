import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTenant, createUser, expectError, expectStatus, freePort, signIn, startStack, type Session, type Stack } from './harness';
import {
  createCollection,
  getDocument,
  markdownDocument,
  ownerQuery,
  upload,
  waitForStatus,
  type DocumentBody,
  type StageRun,
} from './ingestion-support';

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

function stageNames(doc: DocumentBody, status = 'succeeded'): string[] {
  return (doc.stages ?? []).filter((run) => run.status === status).map((run) => run.stage);
}

function lastRun(doc: DocumentBody, stage: string): StageRun {
  const runs = (doc.stages ?? []).filter((run) => run.stage === stage);
  const run = runs.at(-1);
  assert.ok(run, `no ${stage} run`);
  return run;
}

describe('ingestion through the public API', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;
  let collectionId: string;

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-storage-'));
    stack = await startStack({
      env: { STORAGE_LOCAL_DIR: storageDir, UPLOAD_MAX_BYTES: '200000', URL_ALLOW_PRIVATE_HOSTS: 'true', INGEST_CONCURRENCY: '4', INGEST_BACKOFF_MS: '100' },
    });
    const tenant = await createTenant(stack, 'ing');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    collectionId = (await createCollection(stack, admin, 'handbook', { chunking: { maxTokens: 120, overlapTokens: 20 } })).id;
  });

  after(async () => {
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('takes several formats through parse, chunk, embed and index, recording every stage', async () => {
    const result = await upload(stack, admin, collectionId, [
      { name: 'guide.md', content: markdownDocument('Lab guide', 6), type: 'text/markdown' },
      { name: 'notes.txt', content: 'First paragraph about mitochondria.\n\nSecond paragraph about ribosomes and translation.', type: 'text/plain' },
      {
        name: 'page.html',
        content: '<html><head><title>T</title><script>evil()</script></head><body><nav>menu</nav><main><h1>Intro</h1><p>HTML body text about enzymes.</p></main></body></html>',
        type: 'text/html',
      },
      { name: 'table.csv', content: 'gene,effect\nBRCA1,repair\nTP53,apoptosis\n', type: 'text/csv' },
    ]);
    assert.equal(result.status, 202, JSON.stringify(result.body));
    const items = result.body.items ?? [];
    assert.equal(items.length, 4);
    for (const item of items) {
      assert.equal(item.error, null);
      assert.ok(item.document && ['queued', 'parsing', 'chunking', 'embedding', 'indexing', 'indexed'].includes(item.document.status));
    }
    for (const item of items) {
      const doc = await waitForStatus(stack, admin, item.document!.id, ['indexed']);
      const full = await getDocument(stack, admin, doc.id);
      assert.deepEqual(stageNames(full), ['parse', 'chunk', 'embed', 'index'], `${doc.name} stages`);
      assert.ok(full.stages!.every((run) => typeof run.durationMs === 'number' && run.durationMs >= 0));
      assert.ok(full.chunkCount > 0, `${doc.name} has chunks`);
      assert.equal(full.embeddingModel, 'use-lite-512');
      const [row] = await ownerQuery<{ n: string; dims: number | null; script: string }>(
        `SELECT count(*) AS n, max(vector_dims(embedding)) AS dims, bool_or(text LIKE '%evil()%')::text AS script
         FROM chunks WHERE document_id = $1`,
        [doc.id],
      );
      assert.equal(Number(row?.n), full.chunkCount);
      assert.equal(row?.dims, 512);
      assert.equal(row?.script, 'false', 'script content must not be indexed');
    }
    stack.http.assertNoServerErrors();
  });

  it('returns the existing document for the same bytes, and stores them once', async () => {
    const content = markdownDocument('Duplicate check', 2);
    const first = await upload(stack, admin, collectionId, [{ name: 'dup.md', content }]);
    const firstDoc = first.body.items![0]!.document!;
    const filesBefore = (await listFiles(storageDir)).filter((file) => file.includes('/originals/')).length;
    const second = await upload(stack, admin, collectionId, [{ name: 'renamed-dup.md', content }]);
    assert.equal(second.status, 202);
    assert.equal(second.body.items![0]!.duplicate, true);
    assert.equal(second.body.items![0]!.document!.id, firstDoc.id);
    const filesAfter = (await listFiles(storageDir)).filter((file) => file.includes('/originals/')).length;
    assert.equal(filesAfter, filesBefore, 'a duplicate upload must not leave a second original');
    await waitForStatus(stack, admin, firstDoc.id, ['indexed']);
  });

  it('makes a new version for the same name, swaps it in atomically and re-embeds only changed chunks', async () => {
    const v1 = (await upload(stack, admin, collectionId, [{ name: 'protocol.md', content: markdownDocument('Protocol', 8) }])).body.items![0]!.document!;
    const v1Indexed = await waitForStatus(stack, admin, v1.id, ['indexed']);
    const changed = markdownDocument('Protocol', 8).replace('Section 3 of Protocol', 'Section 3 (revised) of Protocol');
    const v2 = (await upload(stack, admin, collectionId, [{ name: 'protocol.md', content: changed }])).body.items![0]!.document!;
    assert.notEqual(v2.id, v1.id);
    assert.equal(v2.version, 2);
    assert.equal(v2.lineageId, v1.lineageId);
    const v2Indexed = await getDocument(stack, admin, (await waitForStatus(stack, admin, v2.id, ['indexed'])).id);
    const embed = lastRun(v2Indexed, 'embed');
    assert.ok(Number(embed.details.embedded) >= 1, 'the changed chunk is embedded');
    assert.ok(Number(embed.details.embedded) < v2Indexed.chunkCount, `only changed chunks re-embedded: ${JSON.stringify(embed.details)}`);
    // One sentence changed: its chunk and at most its overlapping neighbours are new text.
    assert.ok(Number(embed.details.embedded) <= 3, JSON.stringify(embed.details));
    assert.equal(Number(embed.details.embedded) + Number(embed.details.cached), v2Indexed.chunkCount);
    const old = await getDocument(stack, admin, v1.id);
    assert.equal(old.status, 'superseded');
    assert.ok(old.supersededAt);
    const counts = await ownerQuery<{ document_id: string; n: string }>(
      `SELECT document_id, count(*) AS n FROM chunks WHERE document_id = ANY($1::uuid[]) GROUP BY document_id`,
      [[v1.id, v2.id]],
    );
    assert.deepEqual(counts.map((row) => [row.document_id, Number(row.n)]), [[v2.id, v2Indexed.chunkCount]]);
    assert.ok(v1Indexed.chunkCount > 0);
  });

  it('fails corrupt and unsupported files fast, with the reason, and lets them be re-driven', async () => {
    const result = await upload(stack, admin, collectionId, [
      { name: 'broken.pdf', content: Buffer.from('%PDF-1.7\nthis is not really a pdf\n%%EOF'), type: 'application/pdf' },
      { name: 'blob.bin', content: Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 7]), type: 'application/octet-stream' },
    ]);
    const [pdf, blob] = result.body.items!.map((item) => item.document!);
    const failedPdf = await getDocument(stack, admin, (await waitForStatus(stack, admin, pdf!.id, ['failed'])).id);
    assert.equal(failedPdf.error?.stage, 'parse');
    assert.equal(failedPdf.error?.code, 'PARSE_CORRUPT');
    assert.equal((failedPdf.stages ?? []).filter((run) => run.stage === 'parse').length, 1, 'a permanent failure is not retried');
    const failedBlob = await waitForStatus(stack, admin, blob!.id, ['failed']);
    assert.equal(failedBlob.error?.code, 'PARSE_UNSUPPORTED');

    const failedList = expectStatus(await stack.http.get<{ items: DocumentBody[] }>('/v1/documents?status=failed', { as: admin }), 200);
    assert.deepEqual(failedList.items.map((doc) => doc.id).sort(), [pdf!.id, blob!.id].sort());

    const retried = await stack.http.post<DocumentBody>(`/v1/documents/${pdf!.id}/retry`, { as: admin });
    assert.equal(retried.status, 202);
    const again = await getDocument(stack, admin, (await waitForStatus(stack, admin, pdf!.id, ['failed'])).id);
    assert.equal((again.stages ?? []).filter((run) => run.stage === 'parse').length, 2, 'the retry resumed at parse');
    const indexed = (await upload(stack, admin, collectionId, [{ name: 'ok.txt', content: 'Plain words.' }])).body.items![0]!.document!;
    await waitForStatus(stack, admin, indexed.id, ['indexed']);
    expectError(await stack.http.post(`/v1/documents/${indexed.id}/retry`, { as: admin }), 409, 'CONFLICT');
  });

  it('refuses an upload over the size limit with 413 and keeps nothing of it', async () => {
    const before = await listFiles(storageDir);
    const [{ n: docsBefore = '0' } = {}] = await ownerQuery<{ n: string }>('SELECT count(*) AS n FROM documents WHERE collection_id = $1', [collectionId]);
    const result = await upload(stack, admin, collectionId, [{ name: 'huge.txt', content: 'x'.repeat(300_000) }]);
    assert.equal(result.status, 413);
    assert.equal(result.body.code, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual((await listFiles(storageDir)).sort(), before.sort(), 'no partial object may remain');
    const [{ n: docsAfter = '0' } = {}] = await ownerQuery<{ n: string }>('SELECT count(*) AS n FROM documents WHERE collection_id = $1', [collectionId]);
    assert.equal(docsAfter, docsBefore);
  });

  it('refuses an embedding model the deployment does not have', async () => {
    const response = await stack.http.post('/v1/collections', { as: admin, json: { name: 'bad-model', settings: { embeddingModel: 'nope-9000' } } });
    expectError(response, 400, 'VALIDATION_FAILED');
    expectError(
      await stack.http.patch(`/v1/collections/${collectionId}`, { as: admin, json: { settings: { embeddingModel: 'nope-9000' } } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('answers 415 for a non-multipart upload and 400 for one without files', async () => {
    expectError(await stack.http.post(`/v1/collections/${collectionId}/documents`, { as: admin, json: { file: 'x' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const empty = await fetch(`${stack.api.url}/v1/collections/${collectionId}/documents`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
      body: new FormData(),
    });
    assert.equal(empty.status, 400);
  });

  it('deletes a document with its original, chunks, vectors and cached embeddings', async () => {
    const doc = (await upload(stack, admin, collectionId, [{ name: 'to-delete.md', content: markdownDocument('Ephemeral unique words zebra', 3) }])).body.items![0]!.document!;
    await waitForStatus(stack, admin, doc.id, ['indexed']);
    const hashes = (await ownerQuery<{ content_hash: string }>('SELECT content_hash FROM chunks WHERE document_id = $1', [doc.id])).map((row) => row.content_hash);
    assert.ok(hashes.length > 0);
    const originals = (await listFiles(storageDir)).length;
    assert.equal((await stack.http.delete(`/v1/documents/${doc.id}`, { as: admin })).status, 204);
    expectError(await stack.http.get(`/v1/documents/${doc.id}`, { as: admin }), 404, 'NOT_FOUND');
    const [{ chunks = '', cached = '' } = {}] = await ownerQuery<{ chunks: string; cached: string }>(
      `SELECT (SELECT count(*) FROM chunks WHERE document_id = $1) AS chunks,
              (SELECT count(*) FROM embedding_cache WHERE content_hash = ANY($2::text[])) AS cached`,
      [doc.id, hashes],
    );
    assert.equal(Number(chunks), 0);
    assert.equal(Number(cached), 0);
    assert.ok((await listFiles(storageDir)).length < originals, 'the original and its artifacts are removed');
  });

  it('fetches URL sources, refreshes them with ETags, and marks them stale when they stop answering', async () => {
    let body = markdownDocument('Remote page', 5);
    let etag = '"v1"';
    let requests = 0;
    const server: Server = createServer((req, res) => {
      requests += 1;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/markdown', etag }).end(body);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const created = await stack.http.post<{ document: DocumentBody; duplicate: boolean }>(`/v1/collections/${collectionId}/sources`, {
        as: admin,
        json: { url: `http://127.0.0.1:${port}/page.md`, refreshIntervalMinutes: 60 },
      });
      const source = expectStatus(created, 202).document;
      const first = await getDocument(stack, admin, (await waitForStatus(stack, admin, source.id, ['indexed'])).id);
      assert.deepEqual(stageNames(first), ['fetch', 'parse', 'chunk', 'embed', 'index']);

      // Unchanged: one conditional request answered 304, nothing re-processed.
      const before = requests;
      expectStatus(await stack.http.post(`/v1/documents/${source.id}/refresh`, { as: admin }), 202);
      await waitFor(async () => (await getDocument(stack, admin, source.id)).stages!.filter((run) => run.stage === 'fetch').length === 2);
      const unchanged = await waitForStatus(stack, admin, source.id, ['indexed']);
      assert.equal(requests, before + 1);
      assert.equal((await getDocument(stack, admin, unchanged.id)).stages!.filter((run) => run.stage === 'parse').length, 1);

      // Changed: re-indexed, with only the changed chunk embedded again.
      body = body.replace('Section 2 of Remote page', 'Section 2 (updated) of Remote page');
      etag = '"v2"';
      expectStatus(await stack.http.post(`/v1/documents/${source.id}/refresh`, { as: admin }), 202);
      await waitFor(async () => (await getDocument(stack, admin, source.id)).stages!.filter((run) => run.stage === 'index').length === 2);
      const updated = await getDocument(stack, admin, (await waitForStatus(stack, admin, source.id, ['indexed'])).id);
      const embed = lastRun(updated, 'embed');
      assert.ok(Number(embed.details.embedded) >= 1 && Number(embed.details.embedded) < updated.chunkCount, JSON.stringify(embed.details));

      // Gone: the source is marked stale and keeps serving its last version.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      expectStatus(await stack.http.post(`/v1/documents/${source.id}/refresh`, { as: admin }), 202);
      await waitFor(async () => (await getDocument(stack, admin, source.id)).stale, 60_000);
      const stale = await getDocument(stack, admin, source.id);
      assert.equal(stale.status, 'indexed');
      assert.equal(stale.chunkCount, updated.chunkCount);
    } finally {
      server.close();
    }
  });

  it('purges versions beyond the collection’s retention, with their originals', async () => {
    const strict = await createCollection(stack, admin, 'no-history', { keepVersions: 0 });
    const v1 = (await upload(stack, admin, strict.id, [{ name: 'policy.md', content: markdownDocument('Policy', 2) }])).body.items![0]!.document!;
    await waitForStatus(stack, admin, v1.id, ['indexed']);
    const [{ storage_key: v1Key = '' } = {}] = await ownerQuery<{ storage_key: string }>('SELECT storage_key FROM documents WHERE id = $1', [v1.id]);
    assert.ok((await listFiles(storageDir)).some((file) => file.endsWith(v1Key)));
    const v2 = (await upload(stack, admin, strict.id, [{ name: 'policy.md', content: markdownDocument('Policy', 2, ' v2') }])).body.items![0]!.document!;
    await waitForStatus(stack, admin, v2.id, ['indexed']);
    expectError(await stack.http.get(`/v1/documents/${v1.id}`, { as: admin }), 404, 'NOT_FOUND');
    assert.ok(!(await listFiles(storageDir)).some((file) => file.endsWith(v1Key)), 'the purged version’s original is deleted');
  });

  it('meters pages parsed, tokens embedded and bytes stored for the tenant', async () => {
    const rows = await ownerQuery<{ kind: string; unit: string; units: string }>(
      `SELECT kind, unit, sum(units)::text AS units FROM usage_events WHERE tenant_id = $1 GROUP BY kind, unit ORDER BY kind`,
      [admin.tenant.id],
    );
    const byKind = new Map(rows.map((row) => [`${row.kind}/${row.unit}`, Number(row.units)]));
    assert.ok((byKind.get('ingest.parse/pages') ?? 0) > 0, JSON.stringify(rows));
    assert.ok((byKind.get('ingest.embed/tokens') ?? 0) > 0, JSON.stringify(rows));
    assert.ok((byKind.get('storage.bytes/bytes') ?? 0) > 0, JSON.stringify(rows));
  });

  it('keeps other roles and other tenants out', async () => {
    const tenant = await createTenant(stack, 'ing-other');
    const other = await signIn(stack, tenant.slug, tenant.ownerEmail);
    const viewer = await createUser(stack, admin, 'viewer');
    const viewerSession = await signIn(stack, admin.tenant.slug, viewer.email);
    const denied = await upload(stack, viewerSession, collectionId, [{ name: 'nope.txt', content: 'nope' }]);
    assert.equal(denied.status, 403);
    expectError(await stack.http.get(`/v1/collections/${collectionId}`, { as: other }), 404, 'NOT_FOUND');
    const theirs = await upload(stack, other, collectionId, [{ name: 'x.txt', content: 'x' }]);
    assert.equal(theirs.status, 404);
    const docs = expectStatus(await stack.http.get<{ items: DocumentBody[] }>('/v1/documents', { as: other }), 200);
    assert.equal(docs.items.length, 0);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  assert.fail('condition not met in time');
}
