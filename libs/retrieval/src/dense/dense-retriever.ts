import type { TenantScope } from '@quarry/core';
import { Prisma, type Database } from '@quarry/db';
import type { Candidate } from '../fusion/fusion';

export interface DenseQuery {
  vector: readonly number[];
  /** Embedding model id: only chunks embedded by it are compared. */
  model: string;
  dimensions: number;
  limit: number;
  /** Extra conditions on `c` (chunks), already parameterised: collections, documents, ACL. */
  filter: Prisma.Sql;
}

export interface DenseOptions {
  /** HNSW candidate list size; larger finds more of the true neighbours, slower. */
  efSearch: number;
  /** When the filter leaves at most this many chunks, compare them all exactly instead of using HNSW. */
  exactBelow: number;
}

export const denseDefaults: DenseOptions = { efSearch: 100, exactBelow: 20_000 };

/**
 * Cosine similarity over pgvector. With a broad filter it walks the model's HNSW index with iterative
 * scans (pgvector 0.8), so a filter cannot starve the result; when the filter leaves few chunks (a small
 * tenant, a tight ACL) it scans those exactly, which is both faster and complete there.
 */
export class DenseRetriever {
  constructor(private readonly db: Database) {}

  async search(scope: TenantScope, query: DenseQuery, options: DenseOptions = denseDefaults): Promise<{ candidates: Candidate[]; exact: boolean }> {
    if (!Number.isInteger(query.dimensions) || query.dimensions < 1 || query.dimensions > 16_000) {
      throw new Error(`invalid embedding dimension ${query.dimensions}`);
    }
    if (query.vector.length !== query.dimensions) {
      throw new Error(`query vector has ${query.vector.length} dimensions, the model ${query.model} has ${query.dimensions}`);
    }
    // The dimension is a type modifier and cannot be a bind parameter; it is a checked integer.
    const vectorType = Prisma.raw(`vector(${query.dimensions})`);
    const literal = `[${query.vector.join(',')}]`;
    const where = Prisma.sql`c.tenant_id = ${scope.tenantId}::uuid AND c.embedding_model = ${query.model} AND c.embedding IS NOT NULL AND ${query.filter}`;
    return this.db.tenant(scope, async (tx) => {
      const [{ n } = { n: 0 }] = await tx.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM (SELECT 1 FROM chunks c WHERE ${where} LIMIT ${options.exactBelow + 1}) s`;
      const exact = n <= options.exactBelow;
      if (!exact) {
        await tx.$executeRaw`SELECT set_config('hnsw.ef_search', ${String(options.efSearch)}, true)`;
        await tx.$executeRaw`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
      }
      const rows = exact
        ? await tx.$queryRaw<{ id: string; document_id: string; distance: number }[]>`
            WITH filtered AS MATERIALIZED (SELECT c.id, c.document_id, c.embedding FROM chunks c WHERE ${where})
            SELECT id, document_id, (embedding::${vectorType} <=> ${literal}::${vectorType}) AS distance
            FROM filtered ORDER BY distance, id LIMIT ${query.limit}`
        : await tx.$queryRaw<{ id: string; document_id: string; distance: number }[]>`
            SELECT c.id, c.document_id, (c.embedding::${vectorType} <=> ${literal}::${vectorType}) AS distance
            FROM chunks c WHERE ${where}
            ORDER BY c.embedding::${vectorType} <=> ${literal}::${vectorType} LIMIT ${query.limit}`;
      // relaxed_order may return neighbours slightly out of order; sort the page we got.
      const candidates = rows
        .map((row) => ({ chunkId: row.id, documentId: row.document_id, score: 1 - Number(row.distance) }))
        .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1));
      return { candidates, exact };
    });
  }
}
