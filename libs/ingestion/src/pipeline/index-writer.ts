import type { TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';
import { v7 as uuidv7 } from 'uuid';
import type { PlannedChunk } from './chunk-plan';
import { PermanentStageError } from './stage-error';

export interface IndexResult {
  chunks: number;
  supersededVersions: number;
  supersededKeys: string[];
}

/**
 * Replaces a document's chunks in one transaction: readers see the old chunks or the new ones, never a
 * mix or a duplicate. The same transaction marks the document indexed and retires its older versions
 * (their chunks go; their originals stay until retention purges them), so a newer version takes over
 * atomically. Running it twice leaves the same state.
 */
export class IndexWriter {
  constructor(private readonly db: Database) {}

  async replace(scope: TenantScope, documentId: string, model: string, language: string, chunks: readonly PlannedChunk[]): Promise<IndexResult> {
    return this.db.tenant(scope, async (tx) => {
      // Lock the document row: two runs of one document (a retry racing a stalled job) serialise here.
      const [doc] = await tx.$queryRaw<{ lineage_id: string; version: number; superseded_at: Date | null }[]>`
        SELECT lineage_id, version, superseded_at FROM documents
        WHERE tenant_id = ${scope.tenantId}::uuid AND id = ${documentId}::uuid FOR UPDATE`;
      if (!doc) throw new PermanentStageError('DOCUMENT_DELETED', 'The document was deleted while it was being processed');
      if (doc.superseded_at) throw new PermanentStageError('SUPERSEDED', 'A newer version was indexed first');

      await tx.$executeRaw`DELETE FROM chunks WHERE tenant_id = ${scope.tenantId}::uuid AND document_id = ${documentId}::uuid`;
      const rows = chunks.map((chunk) => ({ ...chunk, id: uuidv7() }));
      const inserted = await tx.$executeRaw`
        INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, content_hash, token_count, heading_path,
                            page_start, page_end, char_start, char_end, embedding, embedding_model, acl, ts_config, metadata, created_at)
        SELECT r.id, ${scope.tenantId}::uuid, ${documentId}::uuid, r.ordinal, r.text, r."contentHash", r."tokenCount",
               r."headingPath", r."pageStart", r."pageEnd", r."charStart", r."charEnd", ec.embedding, ${model},
               (SELECT d.acl FROM documents d WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.id = ${documentId}::uuid),
               ${language}, '{}'::jsonb, now()
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
               id uuid, ordinal int, text text, "contentHash" text, "tokenCount" int, "headingPath" text[],
               "pageStart" int, "pageEnd" int, "charStart" int, "charEnd" int)
        JOIN embedding_cache ec
          ON ec.tenant_id = ${scope.tenantId}::uuid AND ec.model = ${model} AND ec.content_hash = r."contentHash"`;
      if (inserted !== rows.length) {
        // The embed stage must have cached every vector; a gap means it has to run again.
        throw new Error(`index: ${rows.length - inserted} of ${rows.length} chunks have no cached embedding`);
      }
      const tokens = chunks.reduce((sum, chunk) => sum + chunk.tokenCount, 0);
      await tx.$executeRaw`
        UPDATE documents SET status = 'indexed', stage = NULL, chunk_count = ${rows.length}, token_count = ${tokens},
               embedding_model = ${model}, indexed_at = now(), updated_at = now(),
               error_code = NULL, error_message = NULL, failed_stage = NULL
        WHERE tenant_id = ${scope.tenantId}::uuid AND id = ${documentId}::uuid`;

      const older = await tx.$queryRaw<{ id: string; storage_key: string | null }[]>`
        UPDATE documents SET superseded_at = now(), status = 'superseded', updated_at = now()
        WHERE tenant_id = ${scope.tenantId}::uuid AND lineage_id = ${doc.lineage_id}::uuid
          AND version < ${doc.version} AND superseded_at IS NULL
        RETURNING id, storage_key`;
      if (older.length > 0) {
        await tx.$executeRaw`
          DELETE FROM chunks WHERE tenant_id = ${scope.tenantId}::uuid AND document_id = ANY(${older.map((row) => row.id)}::uuid[])`;
      }
      return {
        chunks: rows.length,
        supersededVersions: older.length,
        supersededKeys: older.flatMap((row) => (row.storage_key ? [row.storage_key] : [])),
      };
    });
  }
}
