import type { TenantScope } from '@quarry/core';
import { Prisma, type TenantTx } from '@quarry/db';

/**
 * How a judged id names a document:
 * - `id`: the Quarry document id;
 * - `name`: the document name (file name as uploaded, or URL);
 * - `stem`: the file name without directory and extension (`doc-42.md` → `doc-42`; BEIR corpus ids);
 * - `metadata`: the value of a document metadata field (`matchField`).
 * Only current versions count; a key that names several documents (the same stem in two collections)
 * matches each of them.
 */
export const matchModes = ['id', 'name', 'stem', 'metadata'] as const;
export type MatchMode = (typeof matchModes)[number];

export interface DocumentMatching {
  matchBy: MatchMode;
  matchField: string | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Maps each current document named by one of `keys` to that key (document id → judged key). */
export async function resolveJudgedDocuments(
  tx: TenantTx,
  scope: TenantScope,
  matching: DocumentMatching,
  keys: readonly string[],
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const keyExpression = documentKey(matching);
  const candidates = matching.matchBy === 'id' ? keys.filter((key) => uuidPattern.test(key)).map((key) => key.toLowerCase()) : [...keys];
  if (candidates.length === 0) return new Map();
  const rows = await tx.$queryRaw<{ id: string; key: string }[]>`
    SELECT d.id, ${keyExpression} AS key FROM documents d
    WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.superseded_at IS NULL AND ${keyExpression} = ANY(${candidates}::text[])`;
  return new Map(rows.map((row) => [row.id, row.key]));
}

function documentKey(matching: DocumentMatching): Prisma.Sql {
  switch (matching.matchBy) {
    case 'id':
      return Prisma.sql`d.id::text`;
    case 'name':
      return Prisma.sql`d.name`;
    case 'stem':
      // Last path segment, then drop the final extension.
      return Prisma.sql`regexp_replace(regexp_replace(d.name, '^.*/', ''), '[.][^.]*$', '')`;
    case 'metadata':
      return Prisma.sql`(d.metadata ->> ${matching.matchField ?? ''})`;
  }
}
