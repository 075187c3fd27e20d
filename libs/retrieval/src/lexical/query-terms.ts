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
  /** `'t1' | 't2' | …` as Postgres itself printed it; passed back as a bind parameter. */
  tsquery: string;
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
 */
export async function queryTerms(tx: TenantTx, scope: TenantScope, query: LexicalQuery): Promise<QueryTerms | null> {
  const [row] = await tx.$queryRaw<{ terms: string[] | null; counts: number[] | null; tsquery: string | null }[]>`
    WITH picked AS (
      SELECT q.lexeme AS term, coalesce(cardinality(q.positions), 1) AS count
      FROM unnest(quarry_tsvector(${query.language}, ${query.text})) AS q
      JOIN lexical_terms t ON t.tenant_id = ${scope.tenantId}::uuid AND t.term = q.lexeme
      ORDER BY t.df, q.lexeme
      LIMIT ${maxQueryTerms}
    )
    SELECT array_agg(term ORDER BY term) AS terms,
           array_agg(count ORDER BY term) AS counts,
           string_agg('''' || replace(replace(term, '\\', '\\\\'), '''', '''''') || '''', ' | ' ORDER BY term)::tsquery::text AS tsquery
    FROM picked`;
  if (!row?.terms || !row.counts || !row.tsquery) return null;
  return { terms: row.terms, counts: row.counts.map(Number), tsquery: row.tsquery };
}
