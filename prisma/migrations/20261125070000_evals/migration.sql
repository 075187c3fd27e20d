-- Retrieval evals: datasets of queries with judged relevant documents, runs of a dataset against one
-- retrieval configuration, and each run's per-query results. Judgments name documents by a key (`match_by`):
-- the Quarry document id, the document name, its stem (file name without directory and extension), or a
-- metadata field; keys are resolved to current documents when a dataset is uploaded (to report unmatched ones)
-- and again when a run starts (documents may be ingested after the dataset).

CREATE TABLE "eval_datasets" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "match_by" TEXT NOT NULL,
    "match_field" TEXT,
    "content_hash" TEXT NOT NULL,
    "query_count" INTEGER NOT NULL,
    "judgment_count" INTEGER NOT NULL,
    "baseline_run_id" UUID,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "eval_datasets_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "eval_datasets_match_by" CHECK ("match_by" IN ('id', 'name', 'stem', 'metadata')),
    CONSTRAINT "eval_datasets_match_field" CHECK (("match_by" = 'metadata') = ("match_field" IS NOT NULL))
);
CREATE UNIQUE INDEX "eval_datasets_tenant_id_id_key" ON "eval_datasets"("tenant_id", "id");
CREATE UNIQUE INDEX "eval_datasets_tenant_id_name_key" ON "eval_datasets"("tenant_id", "name");
ALTER TABLE "eval_datasets" ADD CONSTRAINT "eval_datasets_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "eval_queries" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "query_key" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    -- judged key → gain
    "judgments" JSONB NOT NULL,
    CONSTRAINT "eval_queries_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "eval_queries_tenant_id_id_key" ON "eval_queries"("tenant_id", "id");
CREATE UNIQUE INDEX "eval_queries_tenant_id_dataset_id_query_key_key" ON "eval_queries"("tenant_id", "dataset_id", "query_key");
CREATE INDEX "eval_queries_tenant_id_dataset_id_position_idx" ON "eval_queries"("tenant_id", "dataset_id", "position");
ALTER TABLE "eval_queries" ADD CONSTRAINT "eval_queries_tenant_id_dataset_id_fkey"
    FOREIGN KEY ("tenant_id", "dataset_id") REFERENCES "eval_datasets"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "eval_runs" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "config" JSONB NOT NULL,
    "gate_margin" DOUBLE PRECISION,
    -- The user the run searches as (their ACL at the time the run executes).
    "run_as_user_id" UUID,
    "error" TEXT,
    "progress_done" INTEGER NOT NULL DEFAULT 0,
    "progress_total" INTEGER NOT NULL DEFAULT 0,
    "metrics" JSONB,
    "gate" JSONB,
    "unmatched_judgments" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "eval_runs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "eval_runs_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed'))
);
CREATE UNIQUE INDEX "eval_runs_tenant_id_id_key" ON "eval_runs"("tenant_id", "id");
CREATE INDEX "eval_runs_tenant_id_dataset_id_idx" ON "eval_runs"("tenant_id", "dataset_id", "id");
ALTER TABLE "eval_runs" ADD CONSTRAINT "eval_runs_tenant_id_dataset_id_fkey"
    FOREIGN KEY ("tenant_id", "dataset_id") REFERENCES "eval_datasets"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "eval_runs" ADD CONSTRAINT "eval_runs_tenant_id_run_as_user_id_fkey"
    FOREIGN KEY ("tenant_id", "run_as_user_id") REFERENCES "users"("tenant_id", "id") ON DELETE SET NULL ("run_as_user_id") ON UPDATE CASCADE;
-- Deleting the baseline run clears the dataset's baseline (and only that column).
ALTER TABLE "eval_datasets" ADD CONSTRAINT "eval_datasets_tenant_id_baseline_run_id_fkey"
    FOREIGN KEY ("tenant_id", "baseline_run_id") REFERENCES "eval_runs"("tenant_id", "id") ON DELETE SET NULL ("baseline_run_id") ON UPDATE CASCADE;

CREATE TABLE "eval_run_results" (
    "tenant_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "query_id" UUID NOT NULL,
    -- Judged keys (or document ids of unjudged documents), best first, one per document.
    "ranking" TEXT[] NOT NULL,
    "latency_ms" DOUBLE PRECISION NOT NULL,
    "ndcg_at10" DOUBLE PRECISION NOT NULL,
    "recall_at5" DOUBLE PRECISION NOT NULL,
    "recall_at20" DOUBLE PRECISION NOT NULL,
    "recall_at100" DOUBLE PRECISION NOT NULL,
    "mrr_at10" DOUBLE PRECISION NOT NULL,
    CONSTRAINT "eval_run_results_pkey" PRIMARY KEY ("tenant_id", "run_id", "query_id")
);
ALTER TABLE "eval_run_results" ADD CONSTRAINT "eval_run_results_tenant_id_run_id_fkey"
    FOREIGN KEY ("tenant_id", "run_id") REFERENCES "eval_runs"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "eval_run_results" ADD CONSTRAINT "eval_run_results_tenant_id_query_id_fkey"
    FOREIGN KEY ("tenant_id", "query_id") REFERENCES "eval_queries"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['eval_datasets', 'eval_queries', 'eval_runs', 'eval_run_results']
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
