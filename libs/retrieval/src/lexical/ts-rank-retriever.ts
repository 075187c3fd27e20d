import type { TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';
import type { Candidate } from '../fusion/fusion';
import { checkLexicalQuery, queryTerms, type LexicalQuery } from './query-terms';

/**
 * Postgres' own `ts_rank_cd` (cover density, no IDF), kept only as the baseline BM25 is measured against.
 * Same terms, same candidates (the GIN index, the same OR tsquery) and same filter as `Bm25Retriever`; only
 * the score differs.
 */
export class TsRankRetriever {
  constructor(private readonly db: Database) {}

  async search(scope: TenantScope, query: LexicalQuery): Promise<Candidate[]> {
    checkLexicalQuery(query);
    return this.db.tenant(scope, async (tx) => {
      const wanted = await queryTerms(tx, scope, query);
      if (!wanted) return [];
      const rows = await tx.$queryRaw<{ id: string; document_id: string; score: number }[]>`
        SELECT c.id, c.document_id, ts_rank_cd(c.tsv, ${wanted.tsquery}::tsquery)::float8 AS score
        FROM quarry_lexical_candidates(${query.language}, ${wanted.tsquery}::tsquery) AS k(id)
        JOIN chunks c ON c.id = k.id
        WHERE c.tenant_id = ${scope.tenantId}::uuid AND ${query.filter}
        ORDER BY score DESC, c.id
        LIMIT ${query.limit}`;
      return rows.map((row) => ({ chunkId: row.id, documentId: row.document_id, score: Number(row.score) }));
    });
  }
}
