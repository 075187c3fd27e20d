import type { TenantScope } from '@quarry/core';
import { Prisma, type Database } from '@quarry/db';
import { bm25Defaults } from '../lexical/bm25-retriever';
import { queryTerms } from '../lexical/query-terms';

/** The features rankingFeatures computes in SQL, in this order. */
export const rankingFeatureNames = ['bm25', 'coverage', 'titleBm25', 'titleCoverage', 'phrase', 'logLength', 'cosine', 'feedbackCosine'] as const;

/** Pseudo-relevance feedback: how many of the first candidates (in fused order) make the feedback centroid. */
export const feedbackDocuments = 3;

/** The learned ranker's features: the SQL features, then the candidate's fused score. */
export const learnedFeatureNames = [...rankingFeatureNames, 'fused'] as const;

export interface FeatureQuery {
  query: string;
  language: string;
  chunkIds: readonly string[];
  queryVector?: { model: string; vector: readonly number[] } | undefined;
}

/**
 * Lexical, field and dense features of each candidate chunk for one query, computed in one statement in the
 * tenant's scope, with the lexemes Postgres itself makes (the same text-search configuration and the tenant's
 * document frequencies as BM25 retrieval), so the features match what retrieval saw:
 *
 * - bm25 / titleBm25: BM25 of the chunk, and of its title field: the chunk's heading path and the document's
 *   title (no length normalisation);
 * - coverage / titleCoverage: IDF-weighted share of the query's terms found;
 * - phrase: IDF-weighted share of the query's adjacent term pairs found at the same distance in the chunk;
 * - logLength: ln(1 + indexed terms of the chunk);
 * - cosine: similarity to the query vector (0 when no vector, or the chunk has another model's embedding);
 * - feedbackCosine: similarity to the centroid of the first `feedbackDocuments` candidates' embeddings
 *   (pseudo-relevance feedback: passage-to-passage similarity, which a symmetric sentence encoder judges
 *   better than claim-to-passage; 0 without a query vector).
 *
 * Rows come back aligned with `chunkIds`; a chunk that is gone (deleted meanwhile) gets zeros.
 */
export async function rankingFeatures(db: Database, scope: TenantScope, input: FeatureQuery): Promise<number[][]> {
  const zeros = (): number[] => rankingFeatureNames.map(() => 0);
  if (input.chunkIds.length === 0) return [];
  const { k1, b } = bm25Defaults;
  const vector = input.queryVector;
  if (vector && !vector.vector.every(Number.isFinite)) throw new Error('query vector has non-finite values');
  const vectorType = vector ? Prisma.raw(`vector(${vector.vector.length})`) : undefined;
  const cosine =
    vector && vectorType
      ? Prisma.sql`CASE WHEN cand.embedding_model = ${vector.model} AND cand.embedding IS NOT NULL
          THEN 1 - (cand.embedding::${vectorType} <=> ${`[${vector.vector.join(',')}]`}::${vectorType}) ELSE 0 END`
      : Prisma.sql`0::float8`;
  const feedbackIds = input.chunkIds.slice(0, feedbackDocuments);
  const feedback =
    vector && vectorType
      ? Prisma.sql`coalesce((SELECT 1 - (cand.embedding::${vectorType} <=> avg(f.embedding::${vectorType}))
          FROM chunks f WHERE f.tenant_id = ${scope.tenantId}::uuid AND f.id = ANY(${feedbackIds}::uuid[])
            AND f.embedding_model = ${vector.model} AND f.embedding IS NOT NULL
          HAVING cand.embedding_model = ${vector.model} AND cand.embedding IS NOT NULL), 0)`
      : Prisma.sql`0::float8`;
  const rows = await db.tenant(scope, async (tx) => {
    const wanted = await queryTerms(tx, scope, { text: input.query, language: input.language, limit: 1, filter: Prisma.sql`true` });
    if (!wanted) {
      // No query term the tenant knows: only the dense feature can say anything.
      return tx.$queryRaw<FeatureRow[]>`
        SELECT cand.id, 0::float8 AS bm25, 0::float8 AS coverage, 0::float8 AS title_bm25, 0::float8 AS title_coverage,
               0::float8 AS phrase, ln(1 + cand.lex_length)::float8 AS log_length, (${cosine})::float8 AS cosine,
               (${feedback})::float8 AS feedback_cosine
        FROM chunks cand WHERE cand.tenant_id = ${scope.tenantId}::uuid AND cand.id = ANY(${[...input.chunkIds]}::uuid[])`;
    }
    return tx.$queryRaw<FeatureRow[]>`
      WITH corpus AS MATERIALIZED (
        SELECT s.chunk_count::float8 AS n, s.total_length::float8 / nullif(s.chunk_count, 0) AS avg_length
        FROM lexical_stats s WHERE s.tenant_id = ${scope.tenantId}::uuid
      ), q AS MATERIALIZED (
        SELECT q.term, q.count::float8 AS count, ln(1 + (corpus.n - t.df + 0.5) / (t.df + 0.5)) AS idf
        FROM unnest(${wanted.terms}::text[], ${wanted.counts}::int[]) AS q(term, count)
        JOIN lexical_terms t ON t.tenant_id = ${scope.tenantId}::uuid AND t.term = q.term
        CROSS JOIN corpus
      ), total AS MATERIALIZED (
        SELECT nullif(sum(idf), 0) AS idf FROM q
      ), positions AS MATERIALIZED (
        SELECT u.lexeme, p AS pos, q.idf
        FROM unnest(quarry_tsvector(${input.language}, ${input.query})) AS u, unnest(u.positions) AS p, q
        WHERE q.term = u.lexeme AND position(E'\\\\' IN u.lexeme) = 0
      ), pairs AS MATERIALIZED (
        SELECT tsquery_phrase(quote_literal(prev)::tsquery, quote_literal(lexeme)::tsquery, (pos - prev_pos)::int) AS phrase,
               least(idf, prev_idf) AS idf
        FROM (SELECT lexeme, pos, idf, lag(lexeme) OVER w AS prev, lag(pos) OVER w AS prev_pos, lag(idf) OVER w AS prev_idf
              FROM positions WINDOW w AS (ORDER BY pos)) ordered
        WHERE prev IS NOT NULL AND prev <> lexeme
      ), pair_total AS MATERIALIZED (
        SELECT nullif(sum(idf), 0) AS idf FROM pairs
      ), cand AS MATERIALIZED (
        SELECT c.id, c.lex_length, c.tsv, c.embedding, c.embedding_model,
               ts_filter(setweight(c.tsv, 'A', ${wanted.terms}::text[]), '{a}') AS matched,
               ts_filter(setweight(quarry_tsvector(${input.language}, concat_ws(' ', array_to_string(c.heading_path, ' '), d.title)), 'A', ${wanted.terms}::text[]), '{a}') AS title_matched
        FROM chunks c JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id
        WHERE c.tenant_id = ${scope.tenantId}::uuid AND c.id = ANY(${[...input.chunkIds]}::uuid[])
      )
      SELECT cand.id,
        coalesce((SELECT sum(q.count * q.idf * cardinality(m.positions) * (${k1}::float8 + 1)
                    / (cardinality(m.positions) + ${k1}::float8 * (1 - ${b}::float8 + ${b}::float8 * cand.lex_length / corpus.avg_length)))
                  FROM unnest(cand.matched) m JOIN q ON q.term = m.lexeme), 0)::float8 AS bm25,
        coalesce((SELECT sum(q.idf) FROM unnest(cand.matched) m JOIN q ON q.term = m.lexeme) / total.idf, 0)::float8 AS coverage,
        coalesce((SELECT sum(q.count * q.idf * cardinality(m.positions) * (${k1}::float8 + 1) / (cardinality(m.positions) + ${k1}::float8))
                  FROM unnest(cand.title_matched) m JOIN q ON q.term = m.lexeme), 0)::float8 AS title_bm25,
        coalesce((SELECT sum(q.idf) FROM unnest(cand.title_matched) m JOIN q ON q.term = m.lexeme) / total.idf, 0)::float8 AS title_coverage,
        coalesce((SELECT sum(p.idf) FROM pairs p WHERE cand.tsv @@ p.phrase) / pair_total.idf, 0)::float8 AS phrase,
        ln(1 + cand.lex_length)::float8 AS log_length,
        (${cosine})::float8 AS cosine,
        (${feedback})::float8 AS feedback_cosine
      FROM cand CROSS JOIN corpus CROSS JOIN total CROSS JOIN pair_total`;
  });
  const byId = new Map(rows.map((row) => [row.id, [row.bm25, row.coverage, row.title_bm25, row.title_coverage, row.phrase, row.log_length, row.cosine, row.feedback_cosine].map(Number)]));
  return input.chunkIds.map((id) => byId.get(id) ?? zeros());
}

interface FeatureRow {
  id: string;
  bm25: number;
  coverage: number;
  title_bm25: number;
  title_coverage: number;
  phrase: number;
  log_length: number;
  cosine: number;
  feedback_cosine: number;
}
