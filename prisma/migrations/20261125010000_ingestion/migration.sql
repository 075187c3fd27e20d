-- Ingestion: documents become versioned originals moving through stages (parse → chunk → embed → index),
-- each stage run recorded; chunks carry their content hash; embeddings are cached per tenant and model.

ALTER TABLE "documents"
    ADD COLUMN "name" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "lineage_id" UUID,
    ADD COLUMN "storage_key" TEXT,
    ADD COLUMN "stage" TEXT,
    ADD COLUMN "failed_stage" TEXT,
    ADD COLUMN "error_code" TEXT,
    ADD COLUMN "error_message" TEXT,
    ADD COLUMN "page_count" INTEGER,
    ADD COLUMN "chunk_count" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "token_count" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "embedding_model" TEXT,
    ADD COLUMN "indexed_at" TIMESTAMPTZ(3),
    ADD COLUMN "superseded_at" TIMESTAMPTZ(3),
    ADD COLUMN "etag" TEXT,
    ADD COLUMN "last_modified" TEXT,
    ADD COLUMN "refresh_interval_minutes" INTEGER,
    ADD COLUMN "last_checked_at" TIMESTAMPTZ(3),
    ADD COLUMN "stale" BOOLEAN NOT NULL DEFAULT false;

UPDATE "documents" SET "lineage_id" = "id" WHERE "lineage_id" IS NULL;
ALTER TABLE "documents" ALTER COLUMN "lineage_id" SET NOT NULL;

-- Same bytes in the same collection are one document (while it is current).
CREATE UNIQUE INDEX "documents_current_content_key" ON "documents"("tenant_id", "collection_id", "content_hash")
    WHERE "superseded_at" IS NULL AND "content_hash" IS NOT NULL;
CREATE INDEX "documents_tenant_id_collection_id_name_idx" ON "documents"("tenant_id", "collection_id", "name");
CREATE INDEX "documents_tenant_id_status_idx" ON "documents"("tenant_id", "status");
CREATE INDEX "documents_tenant_id_lineage_id_idx" ON "documents"("tenant_id", "lineage_id");

ALTER TABLE "chunks" ADD COLUMN "content_hash" TEXT NOT NULL DEFAULT '';
CREATE INDEX "chunks_tenant_id_content_hash_idx" ON "chunks"("tenant_id", "content_hash");

CREATE TABLE "document_stage_runs" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "document_id" UUID NOT NULL,
    "stage" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "duration_ms" INTEGER,
    "error" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "document_stage_runs_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "document_stage_runs_tenant_id_document_id_idx" ON "document_stage_runs"("tenant_id", "document_id", "started_at");
ALTER TABLE "document_stage_runs" ADD CONSTRAINT "document_stage_runs_tenant_id_document_id_fkey"
    FOREIGN KEY ("tenant_id", "document_id") REFERENCES "documents"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "embedding_cache" (
    "tenant_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "embedding" vector NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "embedding_cache_pkey" PRIMARY KEY ("tenant_id", "model", "content_hash")
);
ALTER TABLE "embedding_cache" ADD CONSTRAINT "embedding_cache_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['document_stage_runs', 'embedding_cache']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO quarry_app
                            USING (tenant_id = quarry_current_tenant())
                            WITH CHECK (tenant_id = quarry_current_tenant())', t);
        EXECUTE format('CREATE POLICY owner_maintenance ON %I TO quarry_owner USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO quarry_app', t);
    END LOOP;
END
$$;

-- URL sources due for a refresh, across tenants, for the scheduler (ids only; the refresh runs under each
-- tenant's scope).
CREATE FUNCTION quarry_sources_due(p_limit integer)
    RETURNS TABLE (tenant_id uuid, document_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT d.tenant_id, d.id FROM documents d
        WHERE d.source_type = 'url' AND d.superseded_at IS NULL AND d.refresh_interval_minutes IS NOT NULL
          AND d.status IN ('indexed', 'failed')
          AND coalesce(d.last_checked_at, d.created_at) + make_interval(mins => d.refresh_interval_minutes) <= now()
        ORDER BY coalesce(d.last_checked_at, d.created_at)
        LIMIT least(greatest(p_limit, 1), 1000)
    $$;
REVOKE ALL ON FUNCTION quarry_sources_due(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quarry_sources_due(integer) TO quarry_app;
