import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';
import type { Candidate } from '../fusion/fusion';
import { checkLexicalQuery, queryTerms, type LexicalQuery, type QueryTerms } from './query-terms';

export { maxQueryTerms, type LexicalQuery } from './query-terms';

export interface Bm25Params {
  /** Term-frequency saturation: 0 ignores repetitions, larger lets them count longer. */
  k1: number;
  /** Length normalisation: 0 ignores chunk length, 1 divides fully by relative length. */
  b: number;
}

/** Anserini's BM25 defaults for passage-sized documents (measured on SciFact in the retrieval report). */
export const bm25Defaults: Bm25Params = { k1: 0.9, b: 0.4 };

/**
 * BM25 in Postgres, exact: every chunk matching at least one query term is scored, from its term frequencies
 * (tsvector positions) and the tenant's statistics kept by the chunks triggers (`lexical_terms.df`,
 * `lexical_stats` for N and the average length):
 *
 *   score(c) = Σ_t  qtf(t) · idf(t) · tf(t,c)·(k1 + 1) / (tf(t,c) + k1·(1 − b + b·len(c)/avglen))
 *   idf(t)   = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))                      (Lucene's IDF, never negative)
 *
 * qtf is how often the term occurs in the query (Anserini's bag-of-words query weighs repeated terms the same
 * way). The length is the number of term occurrences with stop words removed, as Lucene counts indexed tokens.
 *
 * Two statements in one tenant transaction: the query's terms (`queryTerms`), then candidates from the GIN
 * index on `chunks.tsv`, scored in one pass. Candidates are the chunks holding an essential term (rarest
 * first, within `candidateBudget` postings; see queryTerms): on small and medium tenants that is every
 * matching chunk, on large ones it keeps a query of frequent words from scoring a tenth of the tenant. Candidates come through `quarry_lexical_candidates()` (current
 * tenant only; see migration 20261125020500): under RLS the planner may not use `tsv @@ …` as an index
 * condition, so a plain `WHERE c.tsv @@ …` would read every chunk of the tenant. The caller's filter is then
 * applied to the candidates' chunk rows, under RLS as usual. Only the query's own lexemes of a candidate are
 * unpacked (`setweight` marks them, `ts_filter` keeps them), not its whole tsvector. Stop-word-only, empty
 * and unknown-word queries return [] after the first statement, without touching chunks.
 * Ties are broken by chunk id, so equal scores come back in a stable order.
 */
export class Bm25Retriever {
  constructor(
    private readonly db: Database,
    private readonly options: Bm25RetrieverOptions = bm25RetrieverDefaults,
  ) {}

  async search(scope: TenantScope, query: LexicalQuery, params: Partial<Bm25Params> = {}): Promise<Candidate[]> {
    return (await this.searchWithPlan(scope, query, params)).candidates;
  }

  /** `search`, plus how the candidates were found and whether the ranking is provably exact. */
  async searchWithPlan(scope: TenantScope, query: LexicalQuery, params: Partial<Bm25Params> = {}): Promise<{ candidates: Candidate[]; plan: LexicalPlan }> {
    checkLexicalQuery(query);
    const { k1, b } = { ...bm25Defaults, ...params };
    if (!(Number.isFinite(k1) && k1 >= 0 && Number.isFinite(b) && b >= 0 && b <= 1)) {
      throw new AppError(400, ErrorCode.ValidationFailed, `Invalid BM25 parameters k1=${k1} b=${b} (k1 ≥ 0, 0 ≤ b ≤ 1)`);
    }
    return this.db.tenant(scope, async (tx) => {
      const wanted = await queryTerms(tx, scope, query, this.options.candidateBudget);
      if (!wanted) return { candidates: [], plan: { terms: 0, essentialTerms: 0, provablyExact: true } };
      // chunks.tsv was made with setweight-able default weights (D), so marking the query's lexemes with A and
      // keeping A leaves exactly the matched lexemes with all their positions.
      const rows = await tx.$queryRaw<{ id: string; document_id: string; score: number }[]>`
        WITH corpus AS MATERIALIZED (
          SELECT s.chunk_count::float8 AS n, s.total_length::float8 / nullif(s.chunk_count, 0) AS avg_length
          FROM lexical_stats s WHERE s.tenant_id = ${scope.tenantId}::uuid
        ), weights AS MATERIALIZED (
          SELECT q.term, q.count * ln(1 + (corpus.n - t.df + 0.5) / (t.df + 0.5)) AS weight
          FROM unnest(${wanted.terms}::text[], ${wanted.counts}::int[]) AS q(term, count)
          JOIN lexical_terms t ON t.tenant_id = ${scope.tenantId}::uuid AND t.term = q.term
          CROSS JOIN corpus
        ), candidates AS MATERIALIZED (
          SELECT c.id, c.document_id, c.lex_length, ts_filter(setweight(c.tsv, 'A', ${wanted.terms}::text[]), '{a}') AS matched
          FROM quarry_lexical_candidates(${query.language}, ${wanted.candidateTsquery}::tsquery) AS k(id)
          JOIN chunks c ON c.id = k.id
          WHERE c.tenant_id = ${scope.tenantId}::uuid AND ${query.filter}
        )
        SELECT cand.id, cand.document_id,
               sum(w.weight * m.tf * (${k1}::float8 + 1)
                   / (m.tf + ${k1}::float8 * (1 - ${b}::float8 + ${b}::float8 * cand.lex_length / corpus.avg_length))) AS score
        FROM candidates cand
        CROSS JOIN corpus
        CROSS JOIN LATERAL (SELECT u.lexeme, cardinality(u.positions)::float8 AS tf FROM unnest(cand.matched) AS u) m
        JOIN weights w ON w.term = m.lexeme
        GROUP BY cand.id, cand.document_id
        ORDER BY score DESC, cand.id
        LIMIT ${query.limit}`;
      const candidates = rows.map((row) => ({ chunkId: row.id, documentId: row.document_id, score: Number(row.score) }));
      return { candidates, plan: lexicalPlan(wanted, candidates, query.limit, k1) };
    });
  }
}

export interface Bm25RetrieverOptions {
  /**
   * Postings (chunks) the candidate terms may add up to before rarer-first term selection stops (the
   * rarest term always counts). Below it every matching chunk is scored, exactly; above it, chunks having
   * only frequent terms are left out (see LexicalPlan.provablyExact).
   */
  candidateBudget: number;
}

/** 20,000 postings score in tens of milliseconds here; SciFact's largest queries stay below (exhaustive). */
export const bm25RetrieverDefaults: Bm25RetrieverOptions = { candidateBudget: 20_000 };

export interface LexicalPlan {
  terms: number;
  essentialTerms: number;
  /**
   * True when no chunk outside the candidates can enter the top `limit`: either every term was a candidate
   * term, or the most the non-essential terms can add (Σ qtf·idf·(k1+1)) is below the limit-th score.
   */
  provablyExact: boolean;
}

function lexicalPlan(wanted: QueryTerms, candidates: readonly Candidate[], limit: number, k1: number): LexicalPlan {
  const essentialTerms = wanted.essential.filter(Boolean).length;
  if (essentialTerms === wanted.terms.length) return { terms: wanted.terms.length, essentialTerms, provablyExact: true };
  let bound = 0;
  wanted.terms.forEach((_, index) => {
    if (wanted.essential[index]) return;
    const df = wanted.dfs[index]!;
    bound += wanted.counts[index]! * Math.log(1 + (wanted.chunkCount - df + 0.5) / (df + 0.5)) * (k1 + 1);
  });
  const threshold = candidates.length >= limit ? candidates[limit - 1]!.score : 0;
  return { terms: wanted.terms.length, essentialTerms, provablyExact: bound < threshold };
}

export { TsRankRetriever } from './ts-rank-retriever';
