import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGroup, createTenant, createUser, expectError, expectStatus, signIn, startStack, type Session, type Stack } from './harness';
import { createCollection, upload, waitForStatus } from './ingestion-support';

interface SearchResponse {
  results: {
    rank: number;
    chunkId: string;
    documentId: string;
    documentName: string;
    text: string;
    headingPath: string[];
    scores: { lexical: number | null; dense: number | null; fused: number; rerank: number | null };
  }[];
  rerank: { requested: boolean; applied: boolean; provider: string | null; reason: string | null; timingMs: number };
  fusion: { method: string; normalisation: string; rrfK: number; weights: { lexical: number; dense: number }; candidates: { lexical: number; dense: number } };
  notices: string[];
  trace?: { stage: string; candidates: { chunkId: string; rank: number; score: number }[] }[];
}

const corpus = [
  { name: 'mitochondria.md', content: '# Mitochondria\n\nMitochondria produce ATP through oxidative phosphorylation in eukaryotic cells.' },
  { name: 'ribosome.md', content: '# Ribosomes\n\nRibosomes translate messenger RNA into proteins by linking amino acids.' },
  { name: 'photosynthesis.md', content: '# Photosynthesis\n\nChloroplasts capture light energy and convert carbon dioxide into glucose.' },
];

describe('search: hybrid retrieval over readable documents only', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;
  let member: Session;
  let openCollection: string;
  let secretCollection: string;
  let secretDocument: string;
  /** Stands in for a remote reranking server that is down: every request gets a 500. */
  let brokenReranker: Server;

  async function search(as: Session, body: Record<string, unknown>): Promise<SearchResponse> {
    return expectStatus(await stack.http.post<SearchResponse>('/v1/search', { as, json: body }), 200, 'search');
  }

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-search-'));
    brokenReranker = createServer((_request, response) => response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"model crashed"}'));
    await new Promise<void>((resolve) => brokenReranker.listen(0, '127.0.0.1', resolve));
    brokenReranker.unref();
    const rerankUrl = `http://127.0.0.1:${(brokenReranker.address() as AddressInfo).port}`;
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir, RERANK_HTTP_URL: rerankUrl, RERANK_HTTP_MAX_ATTEMPTS: '1' } });
    const tenant = await createTenant(stack, 'srch');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    const memberUser = await createUser(stack, admin, 'member', { label: 'searcher' });
    member = await signIn(stack, tenant.slug, memberUser.email);
    openCollection = (await createCollection(stack, admin, 'biology')).id;
    const group = await createGroup(stack, admin, 'board');
    const secret = await createCollection(stack, admin, 'board-minutes');
    secretCollection = secret.id;
    expectStatus(await stack.http.put(`/v1/collections/${secretCollection}/access`, { as: admin, json: { groups: [group.id] } }), 200);
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${admin.user.id}`, { as: admin }), 204);
    const uploaded = await upload(stack, admin, openCollection, corpus);
    const hidden = await upload(stack, admin, secretCollection, [
      { name: 'merger.md', content: '# Merger\n\nThe board approved the mitochondria biotech merger in secret.' },
    ]);
    secretDocument = hidden.body.items![0]!.document!.id;
    for (const item of [...uploaded.body.items!, ...hidden.body.items!]) await waitForStatus(stack, admin, item.document!.id, ['indexed']);
  });

  after(async () => {
    // First, so a stack that failed to start cannot leave this server holding the test process open.
    brokenReranker.closeAllConnections();
    await new Promise<void>((resolve) => brokenReranker.close(() => resolve()));
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('finds the relevant passage first, in every mode, with each stage’s score', async () => {
    for (const mode of ['hybrid', 'lexical', 'dense'] as const) {
      const response = await search(member, { query: 'how do ribosomes make proteins', mode, collectionIds: [openCollection] });
      assert.equal(response.results[0]?.documentName, 'ribosome.md', `${mode}: ${JSON.stringify(response.results.map((r) => r.documentName))}`);
      const top = response.results[0];
      assert.match(top.text, /Ribosomes translate/);
      assert.deepEqual(top.headingPath, ['Ribosomes']);
      if (mode !== 'dense') assert.ok((top.scores.lexical ?? 0) > 0);
      if (mode !== 'lexical') assert.ok((top.scores.dense ?? 0) > 0);
    }
  });

  it('returns a trace of every stage with debug', async () => {
    const response = await search(member, { query: 'glucose from light', debug: true });
    assert.deepEqual(response.trace?.map((stage) => stage.stage), ['lexical', 'dense', 'fused']);
    assert.ok(response.trace.every((stage) => stage.candidates.every((candidate, index) => candidate.rank === index + 1)));
  });

  it('never returns, nor traces, a passage the reader may not read; a grant opens it on the next query', async () => {
    const asMember = await search(member, { query: 'board merger secret', debug: true, topK: 20 });
    assert.ok(asMember.results.every((result) => result.documentId !== secretDocument));
    const traced = asMember.trace!.flatMap((stage) => stage.candidates.map((candidate) => candidate.chunkId));
    const asAdmin = await search(admin, { query: 'board merger secret', debug: true });
    const secretChunks = asAdmin.results.filter((result) => result.documentId === secretDocument);
    assert.ok(secretChunks.length > 0, 'the group member finds it');
    for (const result of secretChunks) assert.ok(!traced.includes(result.chunkId), 'the trace must not leak an unreadable chunk');
    expectStatus(await stack.http.put(`/v1/documents/${secretDocument}/access`, { as: admin, json: { users: [member.user.id] } }), 200);
    const now = await search(member, { query: 'board merger secret' });
    assert.equal(now.results[0]?.documentId, secretDocument);
    expectStatus(await stack.http.delete(`/v1/documents/${secretDocument}/access`, { as: admin }), 200);
    const again = await search(member, { query: 'board merger secret' });
    assert.ok(again.results.every((result) => result.documentId !== secretDocument));
  });

  it('answers bad input with a clear 4xx or an empty result with a reason, never a 500', async () => {
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: '' } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'x'.repeat(50_000) } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', topK: 0 } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', topK: 100_000 } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', filters: { metadata: 'x' } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', filters: { nope: 1 } } }), 400, 'VALIDATION_FAILED');
    const unknown = expectError(
      await stack.http.post('/v1/search', { as: member, json: { query: 'cells', collectionIds: ['00000000-0000-7000-8000-000000000001'] } }),
      404,
      'NOT_FOUND',
    );
    assert.deepEqual((unknown.details as { collectionIds: string[] }).collectionIds, ['00000000-0000-7000-8000-000000000001']);

    const stopWords = await search(member, { query: 'the of and to', mode: 'lexical' });
    assert.deepEqual(stopWords.results, []);
    assert.ok(stopWords.notices.length > 0);
    const otherScript = await search(member, { query: '线粒体 产生 能量' });
    assert.ok(Array.isArray(otherScript.results));
    const missingField = await search(member, { query: 'cells', filters: { metadata: { department: 'legal' } } });
    assert.deepEqual(missingField.results, []);
    assert.ok(missingField.notices.length > 0);
    const unknownReranker = await search(member, { query: 'cells', rerank: true, rerankProvider: 'cross-encoder' });
    assert.equal(unknownReranker.rerank.applied, false);
    assert.match(unknownReranker.rerank.reason ?? '', /not configured/);
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', fusion: { rrfK: 0 } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', fusion: { candidates: { lexical: 100_000 } } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', fusion: { method: 'magic' } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/search', { as: member, json: { query: 'cells', rerankProvider: 'Not A Name!' } }), 400, 'VALIDATION_FAILED');
    stack.http.assertNoServerErrors();
  });

  it('reranks on request (off by default), says why when the reranker fails, and keeps the fused order then', async () => {
    const query = { query: 'how do ribosomes make proteins', collectionIds: [openCollection] };
    const off = await search(member, query);
    assert.deepEqual([off.rerank.requested, off.rerank.applied], [false, false]);
    assert.ok(off.results.every((result) => result.scores.rerank === null));
    const on = await search(member, { ...query, rerank: true });
    assert.deepEqual([on.rerank.requested, on.rerank.applied, on.rerank.provider], [true, true, 'learned']);
    assert.equal(on.results[0]?.documentName, 'ribosome.md');
    assert.ok(on.results.every((result) => typeof result.scores.rerank === 'number'));
    const broken = await search(member, { ...query, rerank: true, rerankProvider: 'http' });
    assert.deepEqual([broken.rerank.applied, broken.rerank.provider], [false, 'http']);
    assert.match(broken.rerank.reason ?? '', /failed .*HTTP 500.*fused order/);
    assert.deepEqual(broken.results.map((result) => result.chunkId), off.results.map((result) => result.chunkId));
  });

  it('a collection’s search settings choose its fusion and reranking; a request overrides them within bounds', async () => {
    expectError(
      await stack.http.post('/v1/collections', { as: admin, json: { name: 'bad-search', settings: { search: { fusion: { weights: { dense: 99 } } } } } }),
      400,
      'VALIDATION_FAILED',
    );
    const tuned = await createCollection(stack, admin, 'tuned', {
      search: { fusion: { method: 'weighted', normalisation: 'zscore', weights: { dense: 0.25 }, candidates: { dense: 30 } }, rerank: { enabled: true } },
    });
    const uploaded = await upload(stack, admin, tuned.id, [{ name: 'cells.md', content: '# Cells\n\nCells divide by mitosis; mitochondria give them energy.' }]);
    await waitForStatus(stack, admin, uploaded.body.items![0]!.document!.id, ['indexed']);

    const byCollection = await search(member, { query: 'cells mitosis', collectionIds: [tuned.id] });
    assert.deepEqual(byCollection.fusion.method, 'weighted');
    assert.deepEqual(byCollection.fusion.normalisation, 'zscore');
    assert.equal(byCollection.fusion.weights.dense, 0.25);
    assert.equal(byCollection.fusion.candidates.dense, 30);
    assert.equal(byCollection.rerank.applied, true, 'the collection turns reranking on');
    assert.equal(byCollection.results[0]?.documentName, 'cells.md');

    const overridden = await search(member, { query: 'cells mitosis', collectionIds: [tuned.id], rerank: false, fusion: { method: 'rrf', rrfK: 10 } });
    assert.deepEqual([overridden.rerank.requested, overridden.fusion.method, overridden.fusion.rrfK, overridden.fusion.weights.dense], [false, 'rrf', 10, 0.25]);

    const mixed = await search(member, { query: 'cells', collectionIds: [tuned.id, openCollection] });
    assert.ok(mixed.notices.some((notice) => /different search settings/.test(notice)));
    assert.equal(mixed.rerank.requested, false);
  });

  it('a tenant’s search settings apply to collections without their own; only administrators change them', async () => {
    expectError(await stack.http.put('/v1/search/settings', { as: member, json: { fusion: { rrfK: 33 } } }), 403, 'FORBIDDEN');
    expectError(await stack.http.put('/v1/search/settings', { as: admin, json: { fusion: { rrfK: -1 } } }), 400, 'VALIDATION_FAILED');
    const saved = expectStatus(await stack.http.put<{ fusion: { rrfK: number } }>('/v1/search/settings', { as: admin, json: { fusion: { rrfK: 33 }, rerank: { enabled: true } } }), 200);
    assert.equal(saved.fusion.rrfK, 33);
    assert.deepEqual(expectStatus(await stack.http.get('/v1/search/settings', { as: member }), 200), { fusion: { rrfK: 33 }, rerank: { enabled: true } });
    const tenantWide = await search(member, { query: 'how do ribosomes make proteins', collectionIds: [openCollection] });
    assert.deepEqual([tenantWide.fusion.rrfK, tenantWide.rerank.applied], [33, true]);
    expectStatus(await stack.http.put('/v1/search/settings', { as: admin, json: {} }), 200);
    const reset = await search(member, { query: 'how do ribosomes make proteins', collectionIds: [openCollection] });
    assert.equal(reset.rerank.requested, false);
    assert.notEqual(reset.fusion.rrfK, 33);
  });

  it('a viewer may search; a key without the search scope may not', async () => {
    const viewer = await createUser(stack, admin, 'viewer');
    const viewerSession = await signIn(stack, admin.tenant.slug, viewer.email);
    assert.ok((await search(viewerSession, { query: 'photosynthesis' })).results.length > 0);
    const key = expectStatus(
      await stack.http.post<{ token: string }>('/v1/api-keys', { as: admin, json: { name: 'no-search', scopes: ['users:read'] } }),
      201,
    );
    expectError(await stack.http.post('/v1/search', { as: { bearer: key.token }, json: { query: 'cells' } }), 403, 'FORBIDDEN');
  });
});
