import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { CrossEncoderRerankProvider, EmbeddingProviders, HttpRerankProvider, UseLiteEmbeddingProvider } from '@quarry/models';
import { EmbeddingTestServer, sendJson } from '@quarry/models/dist/test-support/embedding-server';
import { startRerankServer } from '@quarry/models/dist/test-support/rerank-server';
import { writeTinyCrossEncoderModel, type TinyCrossEncoderModel } from '@quarry/models/dist/test-support/tiny-bert-model';
import {
  Bm25Retriever,
  fusionDefaults,
  LearnedReranker,
  loadLinearRanker,
  rankingFeatureNames,
  rankingFeatures,
  Rerankers,
  SearchService,
  TextReranker,
  type Reranker,
  type SearchRequest,
  type SearchResponse,
} from '@quarry/retrieval';
import { createTestContext, seedTenant } from '@quarry/testing';

/**
 * Reranking inside SearchService against the real database (as quarry_app, under RLS): the embedded learned
 * ranker, a transformers.js cross-encoder (a real ONNX model built for the test), and the HTTP reranker
 * against a real server wrapping that cross-encoder; and the fallback to the fused order, with the reason,
 * when a reranker fails, times out or is not configured.
 */
const texts = [
  { title: 'Cats', text: 'the cat sat on the mat in the park' },
  { title: 'Dogs', text: 'the dog ran in the park and sat' },
  { title: 'Markets', text: 'the stock market fell sharply on quarterly earnings' },
  { title: 'Mats', text: 'a mat on the mat, the cat sat' },
];

describe('search reranking on the real database', () => {
  let app: INestApplicationContext;
  let db: Database;
  let scope: TenantScope;
  let collectionId: string;
  let model: TinyCrossEncoderModel;
  let crossEncoder: CrossEncoderRerankProvider;
  let rerankServer: EmbeddingTestServer;
  let silentServer: EmbeddingTestServer;
  let failingServer: EmbeddingTestServer;

  const service = (rerankers: Reranker[]): SearchService =>
    new SearchService(db, new EmbeddingProviders([new UseLiteEmbeddingProvider()], 'use-lite-512'), new Bm25Retriever(db), new Rerankers(rerankers, rerankers[0]!.name));

  const request = (rerank?: { provider: string; timeoutMs?: number }): SearchRequest => ({
    query: 'cat sat on the mat',
    collections: [{ id: collectionId, language: 'english', embeddingModel: 'use-lite-512' }],
    topK: 10,
    mode: 'lexical',
    filters: {},
    readerTokens: ['everyone'],
    fusion: fusionDefaults,
    ...(rerank ? { rerank: { provider: rerank.provider, candidates: 100, timeoutMs: rerank.timeoutMs ?? 10_000 } } : {}),
    debug: true,
  });

  const names = (response: SearchResponse): string[] => response.results.map((result) => result.documentTitle);

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    scope = await seedTenant(db, 'rerank');
    collectionId = randomUUID();
    await db.tenant(scope, async (tx) => {
      await tx.collection.create({ data: { id: collectionId, tenantId: scope.tenantId, name: 'rerank', settings: { language: 'english' } } });
      for (const [ordinal, doc] of texts.entries()) {
        const id = randomUUID();
        await tx.document.create({
          data: { id, tenantId: scope.tenantId, collectionId, lineageId: id, title: doc.title, name: `${doc.title}.md`, sourceType: 'upload', acl: ['everyone'] },
        });
        await tx.$executeRaw`
          INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl, ts_config)
          VALUES (${randomUUID()}::uuid, ${scope.tenantId}::uuid, ${id}::uuid, ${ordinal}, ${doc.text}, ${['everyone']}::text[], 'english')`;
      }
    });
    model = writeTinyCrossEncoderModel();
    crossEncoder = new CrossEncoderRerankProvider({ modelDir: model.dir, device: 'cpu', batchSize: 4 });
    rerankServer = await startRerankServer(crossEncoder);
    silentServer = await EmbeddingTestServer.start(() => undefined);
    failingServer = await EmbeddingTestServer.start((_request, response) => sendJson(response, 500, { error: 'model crashed' }));
  });

  after(async () => {
    await rerankServer.close();
    await silentServer.close();
    await failingServer.close();
    rmSync(model.dir, { recursive: true, force: true });
    await app.close();
  });

  it('the learned ranker’s bm25 feature is exactly BM25 retrieval’s score, under RLS', async () => {
    const candidates = await new Bm25Retriever(db).search(scope, { text: 'cat sat on the mat', language: 'english', limit: 10, filter: Prisma.sql`true` });
    assert.equal(candidates.length, 3, 'Markets has no query term');
    const features = await rankingFeatures(db, scope, { query: 'cat sat on the mat', language: 'english', chunkIds: candidates.map((c) => c.chunkId) });
    const bm25 = rankingFeatureNames.indexOf('bm25');
    candidates.forEach((candidate, index) => assert.ok(Math.abs(features[index]![bm25]! - candidate.score) < 1e-9, `${features[index]![bm25]} vs ${candidate.score}`));
    const titleCoverage = features.map((row) => row[rankingFeatureNames.indexOf('titleCoverage')]!);
    assert.ok(titleCoverage.some((value) => value > 0) && titleCoverage.some((value) => value === 0), 'titles Cats/Mats match, Dogs/Markets do not');
    // Another tenant sees no features: the statement runs under RLS.
    const other = await seedTenant(db, 'rerank-other');
    assert.deepEqual(
      (await rankingFeatures(db, other, { query: 'cat', language: 'english', chunkIds: candidates.map((c) => c.chunkId) })).flat().every((value) => value === 0),
      true,
    );
  });

  it('reranks with the embedded learned ranker and reports each result’s rerank score', async () => {
    const plain = await service([new LearnedReranker(db)]).search(scope, request());
    assert.deepEqual(plain.rerank, { requested: false, applied: false, provider: null, reason: null, timingMs: 0 });
    const reranked = await service([new LearnedReranker(db)]).search(scope, request({ provider: 'learned' }));
    assert.equal(reranked.rerank.applied, true, reranked.rerank.reason ?? '');
    assert.equal(reranked.rerank.provider, 'learned');
    assert.ok(reranked.results.every((result) => typeof result.scores.rerank === 'number'));
    const scores = reranked.results.map((result) => result.scores.rerank!);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'results are in rerank order');
    assert.deepEqual(reranked.trace?.map((stage) => stage.stage), ['lexical', 'fused', 'rerank']);
    assert.deepEqual(new Set(names(reranked)), new Set(names(plain)), 'the same candidates, reordered');
    assert.equal(loadLinearRanker().weights.length, rankingFeatureNames.length + 1, 'the SQL features and the fused score');
  });

  it('reranks with a transformers.js cross-encoder, and over HTTP (TEI and Cohere) with a server that runs it', async () => {
    const found = new Set(names(await service([new LearnedReranker(db)]).search(scope, request())));
    const candidates = texts.filter((doc) => found.has(doc.title));
    assert.equal(candidates.length, 3);
    const expected = await crossEncoder.rerank('cat sat on the mat', candidates.map((doc) => `${doc.title}\n${doc.text}`));
    const expectedOrder = candidates.map((doc, index) => ({ title: doc.title, score: expected[index]! })).sort((a, b) => b.score - a.score).map((entry) => entry.title);
    const direct = await service([new TextReranker(crossEncoder)]).search(scope, request({ provider: 'cross-encoder' }));
    assert.equal(direct.rerank.applied, true, direct.rerank.reason ?? '');
    assert.deepEqual(names(direct), expectedOrder);
    for (const protocol of ['tei', 'cohere'] as const) {
      const http = new TextReranker(new HttpRerankProvider({ baseUrl: rerankServer.url, protocol }));
      const response = await service([http]).search(scope, request({ provider: 'http' }));
      assert.equal(response.rerank.applied, true, response.rerank.reason ?? '');
      assert.deepEqual(names(response), expectedOrder, protocol);
    }
  });

  it('falls back to the fused order and says why when the reranker times out, fails or is not configured', async () => {
    const fused = names(await service([new LearnedReranker(db)]).search(scope, request()));
    const silent = new TextReranker(new HttpRerankProvider({ baseUrl: silentServer.url, protocol: 'tei', timeoutMs: 60_000 }));
    const timedOut = await service([silent]).search(scope, request({ provider: 'http', timeoutMs: 300 }));
    assert.equal(timedOut.rerank.applied, false);
    assert.match(timedOut.rerank.reason ?? '', /timed out after 300 ms/);
    assert.deepEqual(names(timedOut), fused);
    assert.ok(timedOut.results.every((result) => result.scores.rerank === null));

    const failing = new TextReranker(new HttpRerankProvider({ baseUrl: failingServer.url, protocol: 'cohere', maxAttempts: 2, backoff: { baseDelayMs: 5, maxDelayMs: 10 } }));
    const failed = await service([failing]).search(scope, request({ provider: 'http' }));
    assert.equal(failed.rerank.applied, false);
    assert.match(failed.rerank.reason ?? '', /failed .*HTTP 500/);
    assert.deepEqual(names(failed), fused);

    const unknown = await service([new LearnedReranker(db)]).search(scope, request({ provider: 'cross-encoder' }));
    assert.deepEqual([unknown.rerank.applied, unknown.rerank.reason], [false, 'Reranker "cross-encoder" is not configured for this deployment (configured: learned)']);
    assert.deepEqual(names(unknown), fused);
  });
});
