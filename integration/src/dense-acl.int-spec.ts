import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { chunkConditions, DenseRetriever, type DenseRestriction } from '@quarry/retrieval';
import { createTestContext, requiredEnv, seedTenant } from '@quarry/testing';
import { Client } from 'pg';

/**
 * Dense retrieval under ACLs, as quarry_app under RLS: the ACL token counts the chunk triggers keep
 * (chunk_acl_counts) against a reference counted here, the readable-chunks function's tenant boundary, and
 * the dense retriever's answers against a brute-force nearest-neighbour search written here, for every plan
 * (exact from the ACL's index, exact from a small collection, the HNSW index, the counting fallback).
 */

const MODEL = 'use-lite-512';
const DIMENSIONS = 512;

/** Deterministic pseudo-random unit vectors (the test must not depend on luck). */
function vectors(count: number, seed: number): number[][] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const vector = Array.from({ length: DIMENSIONS }, next);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let index = 0; index < a.length; index += 1) dot += a[index]! * b[index]!;
  return dot;
}

interface StoredChunk {
  id: string;
  vector: number[];
  acl: string[];
  collectionId: string;
}

describe('dense retrieval under ACLs: token counts, readable chunks and every plan', () => {
  let app: INestApplicationContext;
  let db: Database;
  let owner: Client;
  let appClient: Client;
  let dense: DenseRetriever;

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    owner = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
    await owner.connect();
    appClient = new Client({ connectionString: requiredEnv('DATABASE_URL') });
    await appClient.connect();
    dense = new DenseRetriever(db);
  });

  after(async () => {
    await appClient.end();
    await owner.end();
    await app.close();
  });

  async function addCollection(scope: TenantScope): Promise<string> {
    const id = randomUUID();
    await db.tenant(scope, (tx) => tx.collection.create({ data: { id, tenantId: scope.tenantId, name: `c-${id}` } }));
    return id;
  }

  /** One document per call, its chunks inserted in one statement as IndexWriter does. */
  async function addDocument(scope: TenantScope, collectionId: string, acl: string[], chunkVectors: number[][]): Promise<StoredChunk[]> {
    const documentId = randomUUID();
    const chunks = chunkVectors.map((vector) => ({ id: randomUUID(), vector, acl, collectionId }));
    await db.tenant(scope, async (tx) => {
      await tx.document.create({
        data: { id: documentId, tenantId: scope.tenantId, collectionId, lineageId: documentId, title: 'd', sourceType: 'upload', acl, chunkCount: chunks.length },
      });
      await tx.$executeRaw`
        INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl, embedding, embedding_model)
        SELECT r.id, ${scope.tenantId}::uuid, ${documentId}::uuid, r.ordinal, 'chunk ' || r.ordinal, ${acl}::text[], r.embedding::vector, ${MODEL}
        FROM jsonb_to_recordset(${JSON.stringify(chunks.map((chunk, ordinal) => ({ id: chunk.id, ordinal, embedding: `[${chunk.vector.join(',')}]` })))}::jsonb)
          AS r(id uuid, ordinal int, embedding text)`;
    });
    return chunks;
  }

  /** The counts the triggers keep, and the same counted from the chunks themselves (as the owner). */
  async function assertCountsExact(scope: TenantScope, when: string): Promise<Map<string, number>> {
    const kept = await owner.query<{ token: string; n: string }>(`SELECT token, chunk_count::text AS n FROM chunk_acl_counts WHERE tenant_id = $1`, [scope.tenantId]);
    const counted = await owner.query<{ token: string; n: string }>(
      `SELECT u.token, count(*)::text AS n FROM chunks c CROSS JOIN LATERAL unnest(c.acl) AS u(token) WHERE c.tenant_id = $1 GROUP BY u.token`,
      [scope.tenantId],
    );
    const asMap = (rows: { token: string; n: string }[]): Map<string, number> => new Map(rows.map((row) => [row.token, Number(row.n)]));
    assert.deepEqual(asMap(kept.rows), asMap(counted.rows), `chunk_acl_counts exact ${when}`);
    return asMap(kept.rows);
  }

  function restriction(tokens: string[], collectionIds: string[], narrowedFurther = false): DenseRestriction {
    return { readerTokens: tokens, collectionIds, narrowedFurther };
  }

  async function search(scope: TenantScope, vector: number[], tokens: string[], collectionIds: string[], exactBelow: number, withRestriction = true) {
    return dense.search(
      scope,
      {
        vector,
        model: MODEL,
        dimensions: DIMENSIONS,
        limit: 10,
        filter: chunkConditions(collectionIds, tokens, {}),
        ...(withRestriction ? { restriction: restriction(tokens, collectionIds) } : {}),
      },
      { efSearch: 200, exactBelow },
    );
  }

  /** The true 10 nearest readable chunks, by brute force. */
  function nearest(chunks: readonly StoredChunk[], vector: number[], tokens: string[], collectionIds: string[]): string[] {
    return chunks
      .filter((chunk) => chunk.acl.some((token) => tokens.includes(token)) && collectionIds.includes(chunk.collectionId))
      .map((chunk) => ({ id: chunk.id, score: cosine(chunk.vector, vector) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 10)
      .map((entry) => entry.id);
  }

  it('keeps the ACL token counts exact through inserts, ACL changes, deletes, cascades and concurrent writers', async () => {
    const t = await seedTenant(db, 'acl-counts');
    const collection = await addCollection(t);
    const group = `g:${randomUUID()}`;
    const user = `u:${randomUUID()}`;
    const pool = vectors(40, 7);
    const first = await addDocument(t, collection, ['everyone'], pool.slice(0, 5));
    await addDocument(t, collection, [group, user], pool.slice(5, 8));
    const counts = await assertCountsExact(t, 'after inserts');
    assert.equal(counts.get('everyone'), 5);
    assert.equal(counts.get(group), 3);

    // An ACL change rewrites chunks.acl (AccessService does it in one statement per document).
    await db.tenant(t, (tx) => tx.$executeRaw`UPDATE chunks SET acl = ${[group]}::text[] WHERE tenant_id = ${t.tenantId}::uuid AND id = ${first[0]!.id}::uuid`);
    const changed = await assertCountsExact(t, 'after an ACL change');
    assert.equal(changed.get('everyone'), 4);
    assert.equal(changed.get(group), 4);
    // A no-op update changes nothing.
    await db.tenant(t, (tx) => tx.$executeRaw`UPDATE chunks SET text = text || '.' WHERE tenant_id = ${t.tenantId}::uuid`);
    await assertCountsExact(t, 'after a text-only update');

    // Deleting a document cascades to its chunks; tokens no chunk carries any more disappear.
    const documentOfUser = await db.tenant(t, (tx) => tx.$queryRaw<{ id: string }[]>`SELECT id FROM documents WHERE tenant_id = ${t.tenantId}::uuid AND ${user} = ANY(acl)`);
    await db.tenant(t, (tx) => tx.$executeRaw`DELETE FROM documents WHERE tenant_id = ${t.tenantId}::uuid AND id = ${documentOfUser[0]!.id}::uuid`);
    const afterDelete = await assertCountsExact(t, 'after a cascading delete');
    assert.equal(afterDelete.has(user), false);

    // Writers of one tenant with overlapping token sets, each replacing its chunks in two statements.
    const tokens = [group, user, 'everyone', `g:${randomUUID()}`];
    const documents = await Promise.all(
      Array.from({ length: 4 }, (_, w) => addDocument(t, collection, [tokens[w % 4]!, tokens[(w + 1) % 4]!], pool.slice(10 + w * 3, 13 + w * 3))),
    );
    const outcomes = await Promise.allSettled(
      documents.map((chunks, w) =>
        db.tenant(t, async (tx) => {
          const documentId = (await tx.$queryRaw<{ document_id: string }[]>`SELECT document_id FROM chunks WHERE id = ${chunks[0]!.id}::uuid`)[0]!.document_id;
          await tx.$executeRaw`SELECT 1 FROM documents WHERE tenant_id = ${t.tenantId}::uuid AND id = ${documentId}::uuid FOR UPDATE`;
          await tx.$executeRaw`DELETE FROM chunks WHERE tenant_id = ${t.tenantId}::uuid AND document_id = ${documentId}::uuid`;
          await tx.$executeRaw`
            INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl)
            SELECT gen_random_uuid(), ${t.tenantId}::uuid, ${documentId}::uuid, o, 'again', ${[tokens[(w + 2) % 4]!, tokens[(w + 3) % 4]!]}::text[]
            FROM generate_series(0, 2) AS o`;
        }),
      ),
    );
    assert.deepEqual(outcomes.filter((outcome) => outcome.status === 'rejected'), [], 'every writer commits (no deadlock)');
    await assertCountsExact(t, 'after concurrent writers');

    await owner.query('DELETE FROM tenants WHERE id = $1', [t.tenantId]);
    const left = await owner.query<{ n: string }>(`SELECT count(*)::text AS n FROM chunk_acl_counts WHERE tenant_id = $1`, [t.tenantId]);
    assert.equal(Number(left.rows[0]!.n), 0, 'a deleted tenant leaves no counts behind');
  });

  it('lists readable chunks of the current tenant only, and nothing without a tenant', async () => {
    const a = await seedTenant(db, 'acl-read-a');
    const b = await seedTenant(db, 'acl-read-b');
    const mine = await addDocument(a, await addCollection(a), ['everyone'], vectors(3, 11));
    await addDocument(b, await addCollection(b), ['everyone'], vectors(4, 12));
    const seenByA = await db.tenant(a, (tx) => tx.$queryRaw<{ id: string }[]>`SELECT id FROM quarry_readable_chunks(${['everyone']}::text[]) AS k(id)`);
    assert.deepEqual(seenByA.map((row) => row.id).sort(), mine.map((chunk) => chunk.id).sort());
    const { rows } = await appClient.query<{ n: string }>(`SELECT count(*)::text AS n FROM quarry_readable_chunks('{everyone}')`);
    assert.equal(Number(rows[0]!.n), 0, 'no tenant set: no rows');
  });

  it('returns the true nearest readable chunks in every plan, and never an unreadable one', async () => {
    const t = await seedTenant(db, 'acl-dense');
    const big = await addCollection(t);
    const small = await addCollection(t);
    const staff = `g:${randomUUID()}`;
    const reader = `u:${randomUUID()}`;
    const pool = vectors(260, 21);
    const chunks: StoredChunk[] = [];
    // 40 documents of 5 chunks in the big collection; every 8th also readable by `reader` (25 chunks).
    for (let index = 0; index < 40; index += 1) {
      chunks.push(...(await addDocument(t, big, index % 8 === 0 ? [staff, reader] : [staff], pool.slice(index * 5, index * 5 + 5))));
    }
    // A small collection of 30 chunks readable by the staff.
    for (let index = 0; index < 6; index += 1) chunks.push(...(await addDocument(t, small, [staff], pool.slice(200 + index * 5, 205 + index * 5))));
    const queries = vectors(6, 99);
    const exactBelow = 50;

    for (const [index, query] of queries.entries()) {
      // Tight ACL (25 readable ≤ 50): exact, from the ACL's index.
      const tight = await search(t, query, [reader], [big, small], exactBelow);
      assert.equal(tight.exact, true, 'a tight ACL is scanned exactly');
      assert.deepEqual(tight.candidates.map((candidate) => candidate.chunkId), nearest(chunks, query, [reader], [big, small]), `query ${index}: tight ACL`);

      // Broad ACL but a small collection (30 ≤ 50): exact, from the collection.
      const inSmall = await search(t, query, [staff], [small], exactBelow);
      assert.equal(inSmall.exact, true, 'a small collection is scanned exactly');
      assert.deepEqual(inSmall.candidates.map((candidate) => candidate.chunkId), nearest(chunks, query, [staff], [small]), `query ${index}: small collection`);

      // Broad ACL over 230 chunks: the HNSW index, approximate (other tests' tenants share the index), so
      // every answer must be readable and most of the true neighbours found.
      const broad = await search(t, query, [staff], [big, small], exactBelow);
      assert.equal(broad.exact, false, 'a broad filter uses the index');
      const readable = new Set(chunks.filter((chunk) => chunk.acl.includes(staff)).map((chunk) => chunk.id));
      assert.equal(broad.candidates.length, 10);
      assert.ok(broad.candidates.every((candidate) => readable.has(candidate.chunkId)), `query ${index}: broad answers are readable`);
      const truth = new Set(nearest(chunks, query, [staff], [big, small]));
      const found = broad.candidates.filter((candidate) => truth.has(candidate.chunkId)).length;
      assert.ok(found >= 8, `query ${index}: the index found ${found} of the true 10 nearest`);

      // Without statistics (no restriction given) it counts by scanning, and still answers exactly for the tight ACL.
      const counted = await search(t, query, [reader], [big, small], exactBelow, false);
      assert.equal(counted.exact, true);
      assert.deepEqual(counted.candidates.map((candidate) => candidate.chunkId), tight.candidates.map((candidate) => candidate.chunkId));
    }

    // A reader with no token on any chunk gets nothing, whichever plan.
    const nobody = await search(t, queries[0]!, [`u:${randomUUID()}`], [big, small], exactBelow);
    assert.deepEqual(nobody.candidates, []);
    // Filters beyond ACL and collections are still applied inside SQL (documents filter on the exact plan).
    const filtered = await dense.search(
      t,
      {
        vector: queries[1]!,
        model: MODEL,
        dimensions: DIMENSIONS,
        limit: 10,
        filter: Prisma.sql`${chunkConditions([big, small], [reader], {})} AND c.ordinal = 0`,
        restriction: restriction([reader], [big, small], true),
      },
      { efSearch: 200, exactBelow },
    );
    const firstChunks = new Set(chunks.filter((_, position) => position < 200 && position % 5 === 0).map((chunk) => chunk.id));
    assert.ok(filtered.candidates.length > 0 && filtered.candidates.every((candidate) => firstChunks.has(candidate.chunkId)));
  });
});
