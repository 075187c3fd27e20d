import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma, type TenantTx } from '@quarry/db';
import { Bm25Retriever, chunkConditions, maxQueryTerms, TsRankRetriever, type Candidate } from '@quarry/retrieval';
import { createTestContext, requiredEnv, seedTenant } from '@quarry/testing';
import { Client } from 'pg';

/**
 * Lexical retrieval against the real migrations, as quarry_app under RLS: the statistics the chunk triggers
 * keep (lexical_stats, lexical_terms) are compared with a reference computed here from each chunk's own
 * tsvector, and BM25 rankings with a reference scorer written here in TypeScript.
 */

interface Stats {
  n: number;
  total: number;
  df: Map<string, number>;
}

interface ChunkTerms {
  id: string;
  /** term → occurrences (positions) */
  tf: Map<string, number>;
  length: number;
}

const everyone = ['everyone'];

describe('lexical retrieval: exact BM25 statistics and scores in Postgres', () => {
  let app: INestApplicationContext;
  let db: Database;
  let owner: Client;
  let bm25: Bm25Retriever;
  /** The candidate function's SQL body, from the catalogue, so a test can plan exactly what it runs. */
  let candidatesBody: string;

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    owner = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
    await owner.connect();
    bm25 = new Bm25Retriever(db);
    const { rows } = await owner.query<{ src: string }>(`SELECT prosrc AS src FROM pg_proc WHERE proname = 'quarry_lexical_candidates'`);
    candidatesBody = rows[0]?.src.trim() ?? '';
  });

  after(async () => {
    await owner.end();
    await app.close();
  });

  // ---------------------------------------------------------------------------------------------------------
  // Writing, the way IndexWriter does: one INSERT … SELECT per document, ts_config from the collection.

  async function addCollection(scope: TenantScope, language = 'english'): Promise<string> {
    const id = randomUUID();
    await db.tenant(scope, (tx) =>
      tx.collection.create({ data: { id, tenantId: scope.tenantId, name: `c-${id}`, settings: { language } } }),
    );
    return id;
  }

  async function insertChunks(tx: TenantTx, scope: TenantScope, documentId: string, texts: readonly string[], acl = everyone): Promise<void> {
    const rows = texts.map((text, ordinal) => ({ id: randomUUID(), ordinal, text }));
    await tx.$executeRaw`
      INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl, ts_config)
      SELECT r.id, ${scope.tenantId}::uuid, ${documentId}::uuid, r.ordinal, r.text, ${acl}::text[],
             (SELECT coalesce(c.settings->>'language', 'english') FROM documents d
              JOIN collections c ON c.tenant_id = d.tenant_id AND c.id = d.collection_id
              WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.id = ${documentId}::uuid)
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(id uuid, ordinal int, text text)`;
  }

  async function addDocument(scope: TenantScope, collectionId: string, texts: readonly string[], acl = everyone): Promise<string> {
    const id = randomUUID();
    await db.tenant(scope, async (tx) => {
      await tx.document.create({
        data: { id, tenantId: scope.tenantId, collectionId, lineageId: id, title: 'd', sourceType: 'upload', acl },
      });
      await insertChunks(tx, scope, id, texts, acl);
    });
    return id;
  }

  /** IndexWriter's swap: delete a document's chunks, insert the new ones, in one transaction. */
  async function replaceChunks(scope: TenantScope, documentId: string, texts: readonly string[]): Promise<void> {
    await db.tenant(scope, async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM documents WHERE tenant_id = ${scope.tenantId}::uuid AND id = ${documentId}::uuid FOR UPDATE`;
      await tx.$executeRaw`DELETE FROM chunks WHERE tenant_id = ${scope.tenantId}::uuid AND document_id = ${documentId}::uuid`;
      await insertChunks(tx, scope, documentId, texts);
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // References.

  /** Every chunk's terms with their occurrence counts, read from its own tsvector (Postgres tokenises). */
  async function chunkTerms(scope: TenantScope): Promise<ChunkTerms[]> {
    const rows = await db.tenant(scope, (tx) =>
      tx.$queryRaw<{ id: string; lexemes: string[] | null; counts: number[] | null }[]>`
        SELECT c.id, array_agg(u.lexeme ORDER BY u.lexeme) FILTER (WHERE u.lexeme IS NOT NULL) AS lexemes,
               array_agg(cardinality(u.positions) ORDER BY u.lexeme) FILTER (WHERE u.lexeme IS NOT NULL) AS counts
        FROM chunks c LEFT JOIN LATERAL unnest(c.tsv) AS u ON true
        GROUP BY c.id`,
    );
    return rows.map((row) => {
      const tf = new Map((row.lexemes ?? []).map((lexeme, i) => [lexeme, Number(row.counts?.[i])]));
      return { id: row.id, tf, length: [...tf.values()].reduce((sum, count) => sum + count, 0) };
    });
  }

  function referenceStats(chunks: readonly ChunkTerms[]): Stats {
    const df = new Map<string, number>();
    for (const chunk of chunks) for (const term of chunk.tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
    return { n: chunks.length, total: chunks.reduce((sum, chunk) => sum + chunk.length, 0), df };
  }

  /** The statistics as quarry_app sees them (RLS), and as the owner finds them stored under the tenant's id. */
  async function storedStats(scope: TenantScope): Promise<{ visible: Stats; stored: Stats }> {
    const visible = await db.tenant(scope, async (tx) => {
      const stats = await tx.$queryRaw<{ n: bigint; total: bigint }[]>`SELECT chunk_count AS n, total_length AS total FROM lexical_stats`;
      const terms = await tx.$queryRaw<{ term: string; df: bigint }[]>`SELECT term, df FROM lexical_terms`;
      assert.ok(stats.length <= 1, 'one statistics row per tenant');
      return toStats(stats[0], terms);
    });
    const stats = await owner.query<{ n: string; total: string }>(
      'SELECT chunk_count AS n, total_length AS total FROM lexical_stats WHERE tenant_id = $1', [scope.tenantId]);
    const terms = await owner.query<{ term: string; df: string }>('SELECT term, df FROM lexical_terms WHERE tenant_id = $1', [scope.tenantId]);
    return { visible, stored: toStats(stats.rows[0], terms.rows) };
  }

  function toStats(stats: { n: bigint | string; total: bigint | string } | undefined, terms: { term: string; df: bigint | string }[]): Stats {
    return {
      n: Number(stats?.n ?? 0),
      total: Number(stats?.total ?? 0),
      df: new Map(terms.map((row) => [row.term, Number(row.df)])),
    };
  }

  async function assertExact(scope: TenantScope, label: string): Promise<Stats> {
    const expected = referenceStats(await chunkTerms(scope));
    const { visible, stored } = await storedStats(scope);
    for (const [name, actual] of [['visible to quarry_app', visible], ['stored for the tenant', stored]] as const) {
      assert.equal(actual.n, expected.n, `${label}: N (${name})`);
      assert.equal(actual.total, expected.total, `${label}: total length (${name})`);
      assert.deepEqual(sorted(actual.df), sorted(expected.df), `${label}: df (${name})`);
    }
    assert.ok([...stored.df.values()].every((df) => df > 0), `${label}: no term with df 0 is kept`);
    return expected;
  }

  const sorted = (map: Map<string, number>): [string, number][] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  /** BM25 as documented on Bm25Retriever, over the reference statistics. */
  async function referenceBm25(
    scope: TenantScope,
    text: string,
    options: { language?: string; k1?: number; b?: number; only?: ReadonlySet<string> } = {},
  ): Promise<Candidate[]> {
    const { language = 'english', k1 = 0.9, b = 0.4 } = options;
    const chunks = await chunkTerms(scope);
    const stats = referenceStats(chunks);
    const query = await db.tenant(scope, (tx) =>
      tx.$queryRaw<{ term: string; count: number }[]>`
        SELECT lexeme AS term, cardinality(positions) AS count FROM unnest(quarry_tsvector(${language}, ${text}))`,
    );
    const documents = new Map(
      (await db.tenant(scope, (tx) => tx.$queryRaw<{ id: string; document_id: string }[]>`SELECT id, document_id FROM chunks`)).map(
        (row) => [row.id, row.document_id],
      ),
    );
    const avg = stats.total / stats.n;
    return chunks
      .filter((chunk) => !options.only || options.only.has(chunk.id))
      .map((chunk) => {
        let score = 0;
        let matched = false;
        for (const { term, count } of query) {
          const tf = chunk.tf.get(term);
          const df = stats.df.get(term);
          if (!tf || !df) continue;
          matched = true;
          const idf = Math.log(1 + (stats.n - df + 0.5) / (df + 0.5));
          score += (Number(count) * idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * chunk.length) / avg));
        }
        return { chunkId: chunk.id, documentId: documents.get(chunk.id)!, score, matched };
      })
      .filter((entry) => entry.matched)
      .map(({ chunkId, documentId, score }) => ({ chunkId, documentId, score }))
      .sort((x, y) => y.score - x.score || (x.chunkId < y.chunkId ? -1 : 1));
  }

  function assertSameRanking(actual: readonly Candidate[], expected: readonly Candidate[], label: string): void {
    assert.deepEqual(actual.map((hit) => hit.chunkId), expected.map((hit) => hit.chunkId), `${label}: ranking`);
    actual.forEach((hit, i) => {
      const want = expected[i]!;
      assert.equal(hit.documentId, want.documentId, `${label}: document of rank ${i + 1}`);
      assert.ok(Math.abs(hit.score - want.score) <= 1e-9 * Math.abs(want.score), `${label}: score of rank ${i + 1}: ${hit.score} vs ${want.score}`);
    });
  }

  const filterFor = (collectionIds: string[], tokens: string[] = everyone): Prisma.Sql => chunkConditions(collectionIds, tokens, {});

  // ---------------------------------------------------------------------------------------------------------

  it('(a) keeps each tenant’s statistics exact on insert, and never mixes tenants', async () => {
    const a = await seedTenant(db, 'lex-a');
    const b = await seedTenant(db, 'lex-b');
    const ca = await addCollection(a);
    const cb = await addCollection(b);
    await addDocument(a, ca, ['Mitochondria produce ATP in cells.', 'Ribosomes translate RNA into proteins; proteins fold.', '']);
    await addDocument(a, ca, ['Running experiments on protein folding in mitochondria.', 'The weather was pleasant, the the the.']);
    await addDocument(b, cb, ['Zebrafish regenerate heart tissue.', 'Quokkas smile; mitochondria mitochondria everywhere.']);

    const statsA = await assertExact(a, 'tenant A');
    const statsB = await assertExact(b, 'tenant B');
    assert.equal(statsA.n, 5);
    assert.equal(statsA.df.get('mitochondria'), 2);
    assert.equal(statsA.df.has('zebrafish'), false, 'A’s statistics hold none of B’s terms');
    assert.equal(statsB.df.get('mitochondria'), 1);
    const [{ n: foreign } = { n: -1 }] = await db.tenant(a, (tx) =>
      tx.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM lexical_terms WHERE tenant_id = ${b.tenantId}::uuid`,
    );
    assert.equal(foreign, 0, 'RLS hides the other tenant’s statistics');
    await assert.rejects(
      db.tenant(a, (tx) => tx.$executeRaw`INSERT INTO lexical_terms (tenant_id, term, df) VALUES (${b.tenantId}::uuid, 'forged', 1)`),
      /row-level security/i,
    );
  });

  it('(b) stays exact through text updates, deletes, cascades, swaps and no-op updates', async () => {
    const t = await seedTenant(db, 'lex-b');
    const collection = await addCollection(t);
    const doc = await addDocument(t, collection, ['alpha beta gamma', 'beta gamma delta', 'gamma delta epsilon', 'unique zeta']);
    const other = await addDocument(t, collection, ['alpha omega', 'omega omega psi']);
    await assertExact(t, 'after insert');

    await db.tenant(t, (tx) => tx.$executeRaw`UPDATE chunks SET text = 'beta beta theta' WHERE document_id = ${doc}::uuid AND ordinal = 1`);
    await assertExact(t, 'after a text update');

    await db.tenant(t, (tx) => tx.$executeRaw`UPDATE chunks SET ts_config = 'simple' WHERE document_id = ${other}::uuid AND ordinal = 0`);
    await assertExact(t, 'after a configuration change');

    // Other columns change, the tsvector does not (ACL rewrite, re-embedding): nothing to count.
    await db.tenant(t, (tx) => tx.$executeRaw`UPDATE chunks SET acl = '{everyone,g:x}', token_count = token_count + 1`);
    await assertExact(t, 'after an ACL update');

    await db.tenant(t, (tx) => tx.$executeRaw`DELETE FROM chunks WHERE document_id = ${doc}::uuid AND ordinal = 3`);
    const afterDelete = await assertExact(t, 'after deleting a chunk');
    assert.equal(afterDelete.df.has('zeta'), false, 'a term whose last chunk went is removed');

    await replaceChunks(t, doc, ['alpha kappa', 'kappa lambda mu', 'gamma']);
    await assertExact(t, 'after swapping a document’s chunks in one transaction');

    await db.tenant(t, (tx) => tx.document.delete({ where: { id: other } }));
    await assertExact(t, 'after deleting a document (cascade)');

    const doomedCollection = await addCollection(t);
    await addDocument(t, doomedCollection, ['nu xi omicron', 'xi pi']);
    await addDocument(t, doomedCollection, ['pi rho']);
    await assertExact(t, 'before deleting a collection');
    await db.tenant(t, (tx) => tx.collection.delete({ where: { id: doomedCollection } }));
    const afterCollection = await assertExact(t, 'after deleting a collection (two-level cascade)');
    assert.equal(afterCollection.df.has('xi'), false);

    await db.tenant(t, (tx) => tx.$executeRaw`DELETE FROM chunks WHERE tenant_id = ${t.tenantId}::uuid`);
    const empty = await assertExact(t, 'after deleting every chunk');
    assert.equal(empty.df.size, 0);
  });

  it('(b) deleting a tenant (as the owner) removes its statistics with it', async () => {
    const t = await seedTenant(db, 'lex-gone');
    await addDocument(t, await addCollection(t), ['soon gone words', 'more gone words']);
    await owner.query('DELETE FROM tenants WHERE id = $1', [t.tenantId]);
    const left = await owner.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM lexical_terms WHERE tenant_id = $1) + (SELECT count(*) FROM lexical_stats WHERE tenant_id = $1) AS n`,
      [t.tenantId],
    );
    assert.equal(Number(left.rows[0]?.n), 0);
  });

  it('(c) concurrent writers of overlapping vocabularies neither deadlock nor lose counts', async () => {
    const t = await seedTenant(db, 'lex-c');
    const collection = await addCollection(t);
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'theta', 'kappa', 'lambda', 'sigma'];
    const text = (seed: number, size: number): string =>
      Array.from({ length: size }, (_, i) => words[(seed * 7 + i * (seed % 3 === 0 ? 1 : 9)) % words.length]).join(' ');
    const documents = await Promise.all(Array.from({ length: 4 }, (_, w) => addDocument(t, collection, [text(w, 6), text(w + 1, 4)])));
    await assertExact(t, 'after parallel inserts');
    // Each writer swaps its document's chunks (delete + insert, two statements) while the others do too,
    // with vocabularies visited in different orders.
    for (let round = 0; round < 3; round++) {
      const outcomes = await Promise.allSettled(
        documents.map((documentId, w) =>
          replaceChunks(t, documentId, Array.from({ length: 3 + w }, (_, i) => text(round * 11 + w * 5 + i, 3 + ((i + w) % 5)))),
        ),
      );
      const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.deepEqual(failures, [], `round ${round}: every writer commits (no deadlock)`);
      await assertExact(t, `after concurrent round ${round}`);
    }
  });

  it('(d) ranks and scores exactly as the reference BM25 over the same statistics', async () => {
    const t = await seedTenant(db, 'lex-d');
    const collection = await addCollection(t);
    const hidden = await addCollection(t);
    await addDocument(t, collection, [
      'Protein folding in mitochondria is studied in yeast.',
      'Mitochondria produce ATP; ATP powers protein synthesis.',
      'Folding of proteins: chaperones assist folding and refolding.',
      'Mitochondrial DNA mutations and mitochondria dynamics.',
    ]);
    await addDocument(t, collection, [
      'A long chunk about yeast genetics, yeast metabolism, yeast growth, and a brief mention of mitochondria in passing among many other words here.',
      'Protein protein protein protein protein.',
      'Identical twins share text.',
      'Identical twins share text.',
    ]);
    await addDocument(t, collection, ['Secret mitochondria protein notes.'], ['g:secret']);
    await addDocument(t, hidden, ['Mitochondria protein folding in another collection.']);

    const readable = await db.tenant(t, (tx) =>
      tx.$queryRaw<{ id: string }[]>`
        SELECT c.id FROM chunks c JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id
        WHERE d.collection_id = ${collection}::uuid AND c.acl && ${everyone}::text[]`,
    );
    const only = new Set(readable.map((row) => row.id));
    const queries: [string, { k1?: number; b?: number }][] = [
      ['protein folding in mitochondria', {}],
      ['mitochondria mitochondria ATP', {}], // a repeated query term weighs twice
      ['yeast', { k1: 1.2, b: 0.75 }],
      ['protein', { k1: 0, b: 0 }],
      ['twins', {}], // equal scores: ties broken by chunk id
      ['folding chaperones refolding DNA', { k1: 2, b: 1 }],
    ];
    for (const [text, params] of queries) {
      const expected = await referenceBm25(t, text, { ...params, only });
      assert.ok(expected.length > 0, `the reference finds something for "${text}"`);
      const actual = await bm25.search(t, { text, language: 'english', limit: 50, filter: filterFor([collection]) }, params);
      assertSameRanking(actual, expected, `"${text}" ${JSON.stringify(params)}`);
      const top2 = await bm25.search(t, { text, language: 'english', limit: 2, filter: filterFor([collection]) }, params);
      assertSameRanking(top2, expected.slice(0, 2), `"${text}" top 2`);
    }
    const twins = await bm25.search(t, { text: 'twins', language: 'english', limit: 5, filter: filterFor([collection]) });
    assert.equal(twins.length, 2);
    assert.equal(twins[0]!.score, twins[1]!.score);
    assert.ok(twins[0]!.chunkId < twins[1]!.chunkId);

    // The filter is applied inside the query: the secret chunk and the other collection stay out unless asked for.
    const secretReader = await bm25.search(t, { text: 'secret', language: 'english', limit: 5, filter: filterFor([collection], ['g:secret']) });
    assert.equal(secretReader.length, 1);
    assert.deepEqual(await bm25.search(t, { text: 'secret', language: 'english', limit: 5, filter: filterFor([collection]) }), []);
    assert.deepEqual(await bm25.search(t, { text: 'secret', language: 'english', limit: 5, filter: filterFor([collection], []) }), []);
    const both = await bm25.search(t, { text: 'another', language: 'english', limit: 5, filter: filterFor([collection, hidden]) });
    assert.equal(both.length, 1);

    // The ts_rank_cd baseline answers from the same candidates.
    const baseline = await new TsRankRetriever(db).search(t, { text: 'protein folding in mitochondria', language: 'english', limit: 50, filter: filterFor([collection]) });
    const bm25Hits = await bm25.search(t, { text: 'protein folding in mitochondria', language: 'english', limit: 50, filter: filterFor([collection]) });
    assert.deepEqual(baseline.map((hit) => hit.chunkId).sort(), bm25Hits.map((hit) => hit.chunkId).sort());
  });

  it('(d) rejects invalid parameters instead of querying', async () => {
    const t = await seedTenant(db, 'lex-params');
    const query = { text: 'x', language: 'english', limit: 5, filter: Prisma.sql`true` };
    await assert.rejects(bm25.search(t, { ...query, language: "english'; DROP TABLE chunks; --" }), /Invalid lexical query/);
    await assert.rejects(bm25.search(t, { ...query, limit: 0 }), /Invalid lexical query/);
    await assert.rejects(bm25.search(t, query, { b: 2 }), /Invalid BM25 parameters/);
    await assert.rejects(bm25.search(t, query, { k1: Number.NaN }), /Invalid BM25 parameters/);
  });

  it('(e) awkward queries neither fail nor scan: stop words, empty, 50,000 characters, operators, other scripts', async () => {
    const t = await seedTenant(db, 'lex-e');
    const collection = await addCollection(t);
    const simple = await addCollection(t, 'simple');
    const vocabulary = Array.from({ length: 300 }, (_, i) => `w${i.toString(36)}x`);
    await addDocument(t, collection, [
      vocabulary.slice(0, 150).join(' '),
      vocabulary.slice(100, 300).join(' '),
      'Митохондрии производят энергию. Τα μιτοχόνδρια παράγουν ενέργεια.',
      'it\'s a "quoted" back\\slash & pipe | bang ! colon:star :* (paren)',
    ]);
    await addDocument(t, simple, ['线粒体 产生 能量', 'Митохондрии клетки']);
    const search = (text: string, language = 'english', ids = [collection]): Promise<Candidate[]> =>
      bm25.search(t, { text, language, limit: 10, filter: filterFor(ids) });

    for (const text of ['', '   ', 'the of and to a', '!!! ??? ...', '&|!():*\\\'"']) {
      assert.deepEqual(await search(text), [], `"${text}" has no terms`);
    }
    assert.deepEqual(await search('words nobody wrote'), [], 'terms the tenant does not have match nothing');

    // 50,000 characters of many distinct words: capped to the rarest terms, one bounded query.
    const long = Array.from({ length: 8_000 }, (_, i) => (i % 3 === 0 ? vocabulary[i % vocabulary.length] : `noise${i}`)).join(' ').slice(0, 50_000);
    assert.equal(long.length, 50_000);
    const longHits = await search(long);
    assert.equal(longHits.length, 2);
    assert.ok(maxQueryTerms >= 300);
    const oneWord = 'x'.repeat(50_000); // longer than a lexeme may be: Postgres drops it with a notice
    assert.deepEqual(await search(oneWord), []);

    const operators = await search('quoted back\\slash pipe colon:star (paren) it\'s');
    assert.equal(operators.length, 1, 'tsquery syntax in the query is just text');

    const cyrillic = await search('митохондрии');
    assert.equal(cyrillic.length, 1);
    const greek = await search('μιτοχόνδρια');
    assert.equal(greek.length, 1);
    const chinese = await bm25.search(t, { text: '线粒体', language: 'simple', limit: 5, filter: filterFor([simple]) });
    assert.equal(chinese.length, 1);

    // The scoring statement reaches chunks only through the candidates (by primary key), never by reading
    // the tenant's chunks and filtering them.
    const plan = await db.tenant(t, (tx) =>
      tx.$queryRaw<{ 'QUERY PLAN': string }[]>`
        EXPLAIN SELECT c.id FROM quarry_lexical_candidates('english', ${"'w1x' | 'w2x'"}::tsquery) AS k(id)
        JOIN chunks c ON c.id = k.id WHERE c.tenant_id = ${t.tenantId}::uuid AND ${filterFor([collection])}`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    assert.match(text, /Function Scan on quarry_lexical_candidates/);
    assert.doesNotMatch(text, /Seq Scan on chunks/);
  });

  it('(e) candidates can come from the GIN index, which a plain query under RLS cannot use', async () => {
    const t = await seedTenant(db, 'lex-gin');
    const collection = await addCollection(t);
    await addDocument(t, collection, ['rareterm filler', 'common filler', 'common words']);
    // The same query under each role, with sequential scans priced out so any usable index is taken: the
    // application role may not use `tsv @@ …` as an index condition (ts_match_vq is not leakproof, RLS applies
    // first); the owner, as whom quarry_lexical_candidates() runs, may. (Plans with the tenant condition too
    // depend on table statistics, so they are not asserted here.)
    const planText = (rows: { 'QUERY PLAN': string }[]): string => rows.map((row) => row['QUERY PLAN']).join('\n');
    const direct = await db.tenant(t, async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>`EXPLAIN SELECT c.id FROM chunks c WHERE c.tsv @@ 'rareterm'::tsquery`;
    });
    assert.doesNotMatch(planText(direct), /chunks_tsv_idx/);
    assert.match(candidatesBody, /c\.tsv @@ p_query/);
    await owner.query('BEGIN');
    try {
      await owner.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.tenantId]);
      await owner.query('SET LOCAL enable_seqscan = off');
      const { rows } = await owner.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT c.id FROM chunks c WHERE c.tsv @@ 'rareterm'::tsquery`);
      assert.match(planText(rows), /Bitmap Index Scan on chunks_tsv_idx/);
    } finally {
      await owner.query('ROLLBACK');
    }
    const hits = await bm25.search(t, { text: 'rareterm', language: 'english', limit: 10, filter: filterFor([collection]) });
    assert.equal(hits.length, 1);
  });

  it('(f) uses each collection’s text-search configuration', async () => {
    const t = await seedTenant(db, 'lex-f');
    const english = await addCollection(t, 'english');
    const simple = await addCollection(t, 'simple');
    const inEnglish = await addDocument(t, english, ['The dogs were running home']);
    const inSimple = await addDocument(t, simple, ['The dogs were running home']);
    const [stored] = await db.tenant(t, (tx) =>
      tx.$queryRaw<{ english: string[]; simple: string[] }[]>`
        SELECT (SELECT tsvector_to_array(tsv) FROM chunks WHERE document_id = ${inEnglish}::uuid) AS english,
               (SELECT tsvector_to_array(tsv) FROM chunks WHERE document_id = ${inSimple}::uuid) AS simple`,
    );
    assert.deepEqual(stored?.english.sort(), ['dog', 'home', 'run']);
    assert.deepEqual(stored?.simple.sort(), ['dogs', 'home', 'running', 'the', 'were']);

    const search = async (text: string, language: string, collectionId: string): Promise<string[]> =>
      (await bm25.search(t, { text, language, limit: 5, filter: filterFor([collectionId]) })).map((hit) => hit.documentId);
    assert.deepEqual(await search('run', 'english', english), [inEnglish], 'english stems the query and the chunk alike');
    assert.deepEqual(await search('runs', 'english', english), [inEnglish]);
    assert.deepEqual(await search('run', 'simple', simple), [], 'simple does not stem');
    assert.deepEqual(await search('running', 'simple', simple), [inSimple]);
    // A query in one configuration never matches chunks tokenised by another, even when the filter allows both.
    assert.deepEqual(await search('running', 'simple', english), []);
    assert.deepEqual(await search('dogs', 'english', simple), []);
    await assertExact(t, 'with two configurations in one tenant');
  });

});
