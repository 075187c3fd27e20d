import type { TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';

export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}

/** The per-tenant embedding cache: content hash + model → vector. */
export class EmbeddingStore {
  constructor(private readonly db: Database) {}

  async missing(scope: TenantScope, model: string, hashes: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return new Set();
    const rows = await this.db.tenant(scope, (tx) =>
      tx.$queryRaw<{ content_hash: string }[]>`
        SELECT content_hash FROM embedding_cache
        WHERE tenant_id = ${scope.tenantId}::uuid AND model = ${model} AND content_hash = ANY(${unique}::text[])`,
    );
    const present = new Set(rows.map((row) => row.content_hash));
    return new Set(unique.filter((hash) => !present.has(hash)));
  }

  async save(scope: TenantScope, model: string, entries: readonly { hash: string; vector: readonly number[] }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.tenant(scope, (tx) =>
      tx.$executeRaw`
        INSERT INTO embedding_cache (tenant_id, model, content_hash, embedding)
        SELECT ${scope.tenantId}::uuid, ${model}, h, v::vector
        FROM unnest(${entries.map((entry) => entry.hash)}::text[], ${entries.map((entry) => vectorLiteral(entry.vector))}::text[]) AS t(h, v)
        ON CONFLICT DO NOTHING`,
    );
  }
}
