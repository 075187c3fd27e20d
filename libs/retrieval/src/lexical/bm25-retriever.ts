import type { TenantScope } from '@quarry/core';
import { Prisma, type Database } from '@quarry/db';
import type { Candidate } from '../fusion/fusion';

export interface LexicalQuery {
  text: string;
  /** Text-search configuration of the collections searched ('english', 'simple', …). */
  language: string;
  limit: number;
  /** Conditions on chunks `c` (collections, ACL, filters), parameterised. */
  filter: Prisma.Sql;
}

export interface Bm25Params {
  k1: number;
  b: number;
}

/** Anserini's BM25 defaults for passage-sized documents. */
export const bm25Defaults: Bm25Params = { k1: 0.9, b: 0.4 };

const languagePattern = /^[a-z_]{1,40}$/;

/**
 * BM25 in Postgres: the query is tokenised with the collection's text-search configuration (so its terms
 * are the chunks' terms), candidates come from the GIN index on `chunks.tsv`, and each is scored from its
 * term frequencies and the tenant's exact statistics (`lexical_terms`, `lexical_stats`) with Lucene's IDF
 * ln(1 + (N − df + 0.5) / (df + 0.5)). A query of stop words only has no terms and matches nothing,
 * without scanning.
 */
export class Bm25Retriever {
  constructor(private readonly db: Database) {}

  async search(scope: TenantScope, query: LexicalQuery, params: Bm25Params = bm25Defaults): Promise<Candidate[]> {
    if (!languagePattern.test(query.language)) throw new Error(`invalid text search configuration ${query.language}`);
    return this.db.tenant(scope, async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; document_id: string; score: number }[]>`
        WITH terms AS (
          SELECT DISTINCT unnest(tsvector_to_array(quarry_tsvector(${query.language}, ${query.text}))) AS term
        ), stats AS (
          SELECT chunk_count::float8 AS n, total_length::float8 / greatest(chunk_count, 1) AS avg_length
          FROM lexical_stats WHERE tenant_id = ${scope.tenantId}::uuid
        ), weights AS (
          SELECT t.term, ln(1 + (s.n - t.df + 0.5) / (t.df + 0.5)) AS idf
          FROM lexical_terms t JOIN terms q ON q.term = t.term CROSS JOIN stats s
          WHERE t.tenant_id = ${scope.tenantId}::uuid
        ), wanted AS (
          -- Lexemes are already normalised: quote each and OR them into a tsquery without re-parsing user text.
          SELECT string_agg(quote_literal(term), ' | ')::tsquery AS q FROM weights
        ), candidates AS (
          SELECT c.id, c.document_id, c.tsv, c.lex_length FROM chunks c, wanted w
          WHERE w.q IS NOT NULL AND c.tenant_id = ${scope.tenantId}::uuid AND c.tsv @@ w.q AND ${query.filter}
        ), params AS (
          SELECT ${params.k1}::float8 AS k1, ${params.b}::float8 AS b
        )
        SELECT c.id, c.document_id,
               sum(w.idf * (tf.n * (p.k1 + 1)) / (tf.n + p.k1 * (1 - p.b + p.b * c.lex_length / s.avg_length))) AS score
        FROM candidates c
        CROSS JOIN LATERAL (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS n FROM unnest(c.tsv) AS u) tf
        JOIN weights w ON w.term = tf.lexeme
        CROSS JOIN stats s
        CROSS JOIN params p
        GROUP BY c.id, c.document_id
        ORDER BY score DESC, c.id
        LIMIT ${query.limit}`;
      return rows.map((row) => ({ chunkId: row.id, documentId: row.document_id, score: Number(row.score) }));
    });
  }
}

/** Plain `ts_rank_cd` (no IDF), kept as the baseline BM25 is measured against. */
export class TsRankRetriever {
  constructor(private readonly db: Database) {}

  async search(scope: TenantScope, query: LexicalQuery): Promise<Candidate[]> {
    if (!languagePattern.test(query.language)) throw new Error(`invalid text search configuration ${query.language}`);
    return this.db.tenant(scope, async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; document_id: string; score: number }[]>`
        WITH wanted AS (
          SELECT string_agg(quote_literal(term), ' | ')::tsquery AS q
          FROM (SELECT DISTINCT unnest(tsvector_to_array(quarry_tsvector(${query.language}, ${query.text}))) AS term) t
        )
        SELECT c.id, c.document_id, ts_rank_cd(c.tsv, w.q) AS score FROM chunks c, wanted w
        WHERE w.q IS NOT NULL AND c.tenant_id = ${scope.tenantId}::uuid AND c.tsv @@ w.q AND ${query.filter}
        ORDER BY score DESC, c.id LIMIT ${query.limit}`;
      return rows.map((row) => ({ chunkId: row.id, documentId: row.document_id, score: Number(row.score) }));
    });
  }
}
