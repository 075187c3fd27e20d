import type { TenantScope } from '@quarry/core';
import { Prisma, type Database, type TenantTx } from '@quarry/db';
import type { Candidate } from '../fusion/fusion';

export interface DenseQuery {
  vector: readonly number[];
  /** Embedding model id: only chunks embedded by it are compared. */
  model: string;
  dimensions: number;
  limit: number;
  /** Extra conditions on `c` (chunks), already parameterised: collections, documents, ACL. */
  filter: Prisma.Sql;
  /**
   * What `filter` restricts, so the retriever can bound the readable chunks from statistics before choosing
   * between an exact scan and the HNSW index. Without it, it counts by scanning (up to `exactBelow` rows).
   */
  restriction?: DenseRestriction;
}

export interface DenseRestriction {
  readerTokens: readonly string[];
  collectionIds: readonly string[];
  /** True when `filter` also has document, metadata or date conditions (they only narrow further). */
  narrowedFurther: boolean;
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
 * tenant, a small collection, a tight ACL) it scans those exactly, which is both faster and complete there.
 * A tight ACL is scanned from its GIN index (`exact-readable`), not by reading the tenant's chunks.
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
    const where = this.conditions(scope, query);
    return this.db.tenant(scope, async (tx) => {
      const plan = await this.choosePlan(tx, scope, query, options);
      if (plan === 'index') {
        await tx.$executeRaw`SELECT set_config('hnsw.ef_search', ${String(options.efSearch)}, true)`;
        await tx.$executeRaw`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
      }
      const rows =
        plan === 'exact-readable'
          ? // The readable chunks through the ACL's GIN index (quarry_readable_chunks, see migration
            // 20261125100000), then the rest of the filter and the exact distance on those only.
            await tx.$queryRaw<{ id: string; document_id: string; distance: number }[]>`
            WITH filtered AS MATERIALIZED (
              SELECT c.id, c.document_id, c.embedding
              FROM quarry_readable_chunks(${[...(query.restriction?.readerTokens ?? [])]}::text[]) AS k(id)
              JOIN chunks c ON c.id = k.id
              WHERE ${where})
            SELECT id, document_id, (embedding::${vectorType} <=> ${literal}::${vectorType}) AS distance
            FROM filtered ORDER BY distance, id LIMIT ${query.limit}`
          : plan === 'exact'
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
      return { candidates, exact: plan !== 'index' };
    });
  }

  /**
   * Exact scan when the readable chunks are few, the HNSW index otherwise. The number of readable chunks is
   * bounded from statistics first: the reader's ACL tokens (chunk_acl_counts), then the collections' chunk
   * counts. Only when those bounds are large and the filter narrows further in ways no statistic covers
   * (documents, metadata, dates) does it count by scanning, at most `exactBelow + 1` rows.
   */
  private async choosePlan(tx: TenantTx, scope: TenantScope, query: DenseQuery, options: DenseOptions): Promise<DensePlan> {
    const restriction = query.restriction;
    if (restriction) {
      const [{ readable } = { readable: 0 }] = await tx.$queryRaw<{ readable: number }[]>`
        SELECT coalesce(sum(k.chunk_count), 0)::float8 AS readable FROM chunk_acl_counts k
        WHERE k.tenant_id = ${scope.tenantId}::uuid AND k.token = ANY(${[...restriction.readerTokens]}::text[])`;
      if (readable <= options.exactBelow) return 'exact-readable';
      const [{ inCollections } = { inCollections: 0 }] = await tx.$queryRaw<{ inCollections: number }[]>`
        SELECT coalesce(sum(d.chunk_count), 0)::float8 AS "inCollections" FROM documents d
        WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.collection_id = ANY(${[...restriction.collectionIds]}::uuid[])
          AND d.superseded_at IS NULL`;
      if (inCollections <= options.exactBelow) return 'exact';
      if (!restriction.narrowedFurther) return 'index';
    }
    const where = this.conditions(scope, query);
    const [{ n } = { n: 0 }] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT 1 FROM chunks c WHERE ${where} LIMIT ${options.exactBelow + 1}) s`;
    return n <= options.exactBelow ? 'exact' : 'index';
  }

  private conditions(scope: TenantScope, query: DenseQuery): Prisma.Sql {
    return Prisma.sql`c.tenant_id = ${scope.tenantId}::uuid AND c.embedding_model = ${query.model} AND c.embedding IS NOT NULL AND ${query.filter}`;
  }
}

type DensePlan = 'exact-readable' | 'exact' | 'index';
