import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { Bm25Retriever, bm25Defaults } from '@quarry/retrieval';
import { createTestContext, seedTenant } from '@quarry/testing';
import { randomUUID } from 'node:crypto';

interface Stats {
  n: number;
  total: number;
  df: Map<string, number>;
}

describe('BM25 in Postgres: exact statistics and scores', () => {
  let app: INestApplicationContext;
  let db: Database;
  let tenant: TenantScope;
  let other: TenantScope;
  let documentId: string;

  async function addDocument(scope: TenantScope, texts: string[], language = 'english'): Promise<string> {
    const collectionId = randomUUID();
    const id = randomUUID();
    await db.tenant(scope, async (tx) => {
      await tx.collection.create({ data: { id: collectionId, tenantId: scope.tenantId, name: `c-${collectionId}` } });
      await tx.document.create({
        data: { id, tenantId: scope.tenantId, collectionId, lineageId: id, title: 't', sourceType: 'upload', acl: ['everyone'] },
      });
      for (const [ordinal, text] of texts.entries()) {
        await tx.$executeRaw`
          INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl, ts_config)
          VALUES (${randomUUID()}::uuid, ${scope.tenantId}::uuid, ${id}::uuid, ${ordinal}, ${text}, '{everyone}', ${language})`;
      }
    });
    return id;
  }

  /** The reference: statistics recomputed from the tenant's chunks' own tsvectors. */
  async function referenceStats(scope: TenantScope): Promise<Stats> {
    const rows = await db.tenant(scope, (tx) =>
      tx.$queryRaw<{ lexemes: string[]; counts: number[] }[]>`
        SELECT array_agg(u.lexeme ORDER BY u.lexeme) AS lexemes, array_agg(coalesce(array_length(u.positions, 1), 1) ORDER BY u.lexeme) AS counts
        FROM chunks c, unnest(c.tsv) u WHERE c.tenant_id = ${scope.tenantId}::uuid GROUP BY c.id`,
    );
    const df = new Map<string, number>();
    let total = 0;
    for (const row of rows) {
      row.lexemes.forEach((lexeme) => df.set(lexeme, (df.get(lexeme) ?? 0) + 1));
      total += row.counts.reduce((sum, count) => sum + count, 0);
    }
    return { n: rows.length, total, df };
  }

  async function storedStats(scope: TenantScope): Promise<Stats> {
    return db.tenant(scope, async (tx) => {
      const [stats] = await tx.$queryRaw<{ n: bigint; total: bigint }[]>`SELECT chunk_count AS n, total_length AS total FROM lexical_stats`;
      const terms = await tx.$queryRaw<{ term: string; df: bigint }[]>`SELECT term, df FROM lexical_terms`;
      return { n: Number(stats?.n ?? 0), total: Number(stats?.total ?? 0), df: new Map(terms.map((row) => [row.term, Number(row.df)])) };
    });
  }

  async function assertExact(scope: TenantScope): Promise<void> {
    const [expected, stored] = await Promise.all([referenceStats(scope), storedStats(scope)]);
    assert.equal(stored.n, expected.n, 'chunk count');
    assert.equal(stored.total, expected.total, 'total length');
    assert.deepEqual([...stored.df].sort(), [...expected.df].sort(), 'document frequencies');
  }

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    tenant = await seedTenant(db, 'bm25');
    other = await seedTenant(db, 'bm25-other');
    documentId = await addDocument(tenant, [
      'Mitochondria produce ATP in cells.',
      'Ribosomes translate RNA into proteins; proteins fold.',
      'Running experiments on protein folding in mitochondria.',
      'The weather was pleasant.',
    ]);
    await addDocument(other, ['Mitochondria mitochondria mitochondria everywhere in this other tenant.']);
  });

  after(async () => {
    await app.close();
  });

  it('keeps per-tenant statistics exact on insert, and never mixes tenants', async () => {
    await assertExact(tenant);
    await assertExact(other);
    assert.equal((await storedStats(tenant)).n, 4);
  });

  it('stays exact through updates, deletes and cascades', async () => {
    await db.tenant(tenant, (tx) => tx.$executeRaw`UPDATE chunks SET text = 'Ribosomes make proteins quickly.' WHERE ordinal = 1 AND document_id = ${documentId}::uuid`);
    await assertExact(tenant);
    await db.tenant(tenant, (tx) => tx.$executeRaw`DELETE FROM chunks WHERE ordinal = 3 AND document_id = ${documentId}::uuid`);
    await assertExact(tenant);
    const doomed = await addDocument(tenant, ['Temporary words zebra quokka.']);
    await assertExact(tenant);
    await db.tenant(tenant, (tx) => tx.document.delete({ where: { id: doomed } }));
    await assertExact(tenant);
    const stats = await storedStats(tenant);
    assert.equal(stats.df.has('zebra'), false, 'a term whose last chunk went is removed');
  });

  it('concurrent writers of overlapping vocabularies neither deadlock nor lose counts', async () => {
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => addDocument(tenant, [`alpha beta gamma delta ${i}`, `gamma delta epsilon alpha ${i}`])),
    );
    await assertExact(tenant);
    assert.equal((await storedStats(tenant)).df.get('alpha'), 8);
  });

  it('scores exactly as a reference BM25 over the same statistics', async () => {
    const query = 'protein folding in mitochondria';
    const results = await new Bm25Retriever(db).search(tenant, { text: query, language: 'english', limit: 10, filter: Prisma.sql`true` });
    const stats = await storedStats(tenant);
    const chunks = await db.tenant(tenant, (tx) =>
      tx.$queryRaw<{ id: string; lexemes: string[]; counts: number[] }[]>`
        SELECT c.id, array_agg(u.lexeme) AS lexemes, array_agg(coalesce(array_length(u.positions, 1), 1)) AS counts
        FROM chunks c, unnest(c.tsv) u GROUP BY c.id`,
    );
    const [{ terms = [] } = {}] = await db.tenant(tenant, (tx) =>
      tx.$queryRaw<{ terms: string[] }[]>`SELECT tsvector_to_array(quarry_tsvector('english', ${query})) AS terms`,
    );
    const { k1, b } = bm25Defaults;
    const avg = stats.total / stats.n;
    const expected = chunks
      .map((chunk) => {
        const tf = new Map(chunk.lexemes.map((lexeme, i) => [lexeme, chunk.counts[i]!]));
        const length = chunk.counts.reduce((sum, count) => sum + count, 0);
        const score = terms.reduce((sum, term) => {
          const f = tf.get(term);
          const df = stats.df.get(term);
          if (!f || !df) return sum;
          const idf = Math.log(1 + (stats.n - df + 0.5) / (df + 0.5));
          return sum + (idf * (f * (k1 + 1))) / (f + k1 * (1 - b + (b * length) / avg));
        }, 0);
        return { id: chunk.id, score };
      })
      .filter((entry) => entry.score > 0)
      .sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1));
    assert.deepEqual(results.map((result) => result.chunkId), expected.map((entry) => entry.id));
    results.forEach((result, i) => assert.ok(Math.abs(result.score - expected[i]!.score) <= 1e-9 * expected[i]!.score));
    assert.ok(results.length >= 2);
  });

  it('a stop-word-only, empty-ish or other-script query matches nothing instead of scanning', async () => {
    const retriever = new Bm25Retriever(db);
    for (const text of ['the of and', '   ', '线粒体']) {
      assert.deepEqual(await retriever.search(tenant, { text, language: 'english', limit: 10, filter: Prisma.sql`true` }), []);
    }
    const long = 'mitochondria '.repeat(4000);
    assert.ok((await retriever.search(tenant, { text: long, language: 'english', limit: 10, filter: Prisma.sql`true` })).length > 0);
  });

  it('uses each collection’s text-search configuration', async () => {
    const simple = await seedTenant(db, 'bm25-simple');
    await addDocument(simple, ['running fast'], 'simple');
    const retriever = new Bm25Retriever(db);
    assert.equal((await retriever.search(simple, { text: 'running', language: 'simple', limit: 5, filter: Prisma.sql`true` })).length, 1);
    assert.equal((await retriever.search(simple, { text: 'run', language: 'simple', limit: 5, filter: Prisma.sql`true` })).length, 0);
    const english = await seedTenant(db, 'bm25-english');
    await addDocument(english, ['running fast'], 'english');
    assert.equal((await retriever.search(english, { text: 'run', language: 'english', limit: 5, filter: Prisma.sql`true` })).length, 1);
  });
});
