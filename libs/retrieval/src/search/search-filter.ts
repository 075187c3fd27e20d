import { Prisma } from '@quarry/db';
import type { SearchFilters } from './search-types';

/**
 * The conditions every retriever applies to chunks `c`: the requested collections (through the chunk's
 * document), the reader's ACL tokens, and the caller's filters. All values are bind parameters.
 */
export function chunkConditions(collectionIds: readonly string[], readerTokens: readonly string[], filters: SearchFilters): Prisma.Sql {
  const documentConditions: Prisma.Sql[] = [
    Prisma.sql`d.tenant_id = c.tenant_id`,
    Prisma.sql`d.id = c.document_id`,
    Prisma.sql`d.collection_id = ANY(${[...collectionIds]}::uuid[])`,
    Prisma.sql`d.superseded_at IS NULL`,
  ];
  if (filters.documentIds?.length) documentConditions.push(Prisma.sql`d.id = ANY(${filters.documentIds}::uuid[])`);
  if (filters.createdAfter) documentConditions.push(Prisma.sql`d.created_at >= ${filters.createdAfter}`);
  if (filters.createdBefore) documentConditions.push(Prisma.sql`d.created_at < ${filters.createdBefore}`);
  for (const [field, value] of Object.entries(filters.metadata ?? {})) {
    documentConditions.push(Prisma.sql`d.metadata @> ${JSON.stringify({ [field]: value })}::jsonb`);
  }
  return Prisma.sql`c.acl && ${[...readerTokens]}::text[]
    AND EXISTS (SELECT 1 FROM documents d WHERE ${Prisma.join(documentConditions, ' AND ')})`;
}
