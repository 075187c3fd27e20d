import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import type { Prisma, TenantTx } from '@quarry/db';
import { z } from 'zod';

/** What a lexical retriever is asked. */
export interface LexicalQuery {
  text: string;
  /** Text-search configuration of the collections searched ('english', 'simple', …). */
  language: string;
  limit: number;
  /** Conditions on chunks `c` (collections, ACL, filters), parameterised. */
  filter: Prisma.Sql;
}

/**
 * At most this many distinct query terms are used, the rarest first (Lucene's default clause limit).
 * A pasted page of text then still runs as one bounded query instead of OR-ing thousands of terms.
 */
export const maxQueryTerms = 1024;

const lexicalQuerySchema = z.object({
  text: z.string(),
  // The same pattern as chunks' CHECK constraint; quarry_tsvector() resolves it in pg_catalog.
  language: z.string().regex(/^[a-z_]{1,40}$/, 'a text-search configuration name'),
  limit: z.number().int().min(1).max(10_000),
});

export function checkLexicalQuery(query: LexicalQuery): void {
  const parsed = lexicalQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new AppError(400, ErrorCode.ValidationFailed, 'Invalid lexical query', z.treeifyError(parsed.error));
  }
}

export interface QueryTerms {
  /** Distinct lexemes, sorted; only those that occur in the tenant's chunks. */
  terms: string[];
  /** How often each term occurs in the query (same order). */
  counts: number[];
  /** Document frequency of each term in the tenant (same order). */
  dfs: number[];
  /** The tenant's chunk count (BM25's N). */
  chunkCount: number;
  /** Whether each term is essential (same order): candidates come from the essential terms' postings. */
  essential: boolean[];
  /** `'t1' | 't2' | …` as Postgres itself printed it; passed back as a bind parameter. */
  tsquery: string;
  /** The same for the essential terms only: the candidate generator. Equal to `tsquery` when all are. */
  candidateTsquery: string;
}

/**
 * Step one of a lexical search: the query's terms, made by the same text-search configuration (through the
 * same quarry_tsvector() as the chunks' generated column, so they match the stored lexemes exactly; stop
 * words are gone), restricted to terms the tenant's chunks contain and capped at the rarest `maxQueryTerms`.
 *
 * The OR tsquery is assembled inside Postgres from those lexemes, each quoted as a tsquery literal (quotes
 * and backslashes doubled), and read back as Postgres printed it: user text never becomes SQL, and no
 * lexeme is parsed or normalised a second time. Returns null when no term is left (empty, stop words only,
 * or nothing the tenant has), so the caller answers [] without touching chunks.
 *
 * Doing this as its own statement lets the scoring statement carry the tsquery as a plain parameter, which
 * the planner can see: it then uses the GIN index when the terms are selective, instead of planning for an
 * unknown value computed inside the query.
 *
 * Essential terms (MaxScore's split): taking terms from the rarest, a term is essential while the postings
 * of the essential terms add up to at most `candidateBudget` chunks; the rarest term always is. Candidates
 * come only from essential terms' postings and are scored with every term, so a chunk is missed only if it
 * has none of the essential terms, and then its score is at most what the other terms can add.
 */
export async function queryTerms(tx: TenantTx, scope: TenantScope, query: LexicalQuery, candidateBudget = Number.POSITIVE_INFINITY): Promise<QueryTerms | null> {
  const budget = Number.isFinite(candidateBudget) ? candidateBudget : Number.MAX_SAFE_INTEGER;
  const [row] = await tx.$queryRaw<
    { terms: string[] | null; counts: number[] | null; dfs: number[] | null; essential: boolean[] | null; chunk_count: number | null; tsquery: string | null; candidate_tsquery: string | null }[]
  >`
    WITH picked AS (
      SELECT q.lexeme AS term, coalesce(cardinality(q.positions), 1) AS count, t.df,
             '''' || replace(replace(q.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS quoted
      FROM unnest(quarry_tsvector(${query.language}, ${query.text})) AS q
      JOIN lexical_terms t ON t.tenant_id = ${scope.tenantId}::uuid AND t.term = q.lexeme
      ORDER BY t.df, q.lexeme
      LIMIT ${maxQueryTerms}
    ), ranked AS (
      SELECT p.*, (row_number() OVER w = 1 OR sum(p.df) OVER w <= ${budget}::float8) AS essential
      FROM picked p WINDOW w AS (ORDER BY p.df, p.term ROWS UNBOUNDED PRECEDING)
    )
    SELECT array_agg(term ORDER BY term) AS terms,
           array_agg(count ORDER BY term) AS counts,
           array_agg(df::float8 ORDER BY term) AS dfs,
           array_agg(essential ORDER BY term) AS essential,
           (SELECT s.chunk_count::float8 FROM lexical_stats s WHERE s.tenant_id = ${scope.tenantId}::uuid) AS chunk_count,
           string_agg(quoted, ' | ' ORDER BY term)::tsquery::text AS tsquery,
           string_agg(quoted, ' | ' ORDER BY term) FILTER (WHERE essential)::tsquery::text AS candidate_tsquery
    FROM ranked`;
  if (!row?.terms || !row.counts || !row.dfs || !row.essential || !row.tsquery || !row.candidate_tsquery) return null;
  return {
    terms: row.terms,
    counts: row.counts.map(Number),
    dfs: row.dfs.map(Number),
    essential: row.essential,
    chunkCount: Number(row.chunk_count ?? 0),
    tsquery: row.tsquery,
    candidateTsquery: row.candidate_tsquery,
  };
}
