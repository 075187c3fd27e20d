-- Batch questions for integrators: POST /v1/jobs queues them, the worker answers each (stored here, as it
-- goes, so a retried job resumes), and an optional webhook receives the result signed with HMAC-SHA256.
-- The webhook's signing secret is derived from a server key and the job id, so no secret is stored.

CREATE TABLE "chat_jobs" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "api_key_id" UUID,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "questions" JSONB NOT NULL,
    "collection_ids" UUID[] NOT NULL DEFAULT '{}',
    "mode" TEXT NOT NULL,
    "results" JSONB NOT NULL DEFAULT '[]',
    "completed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL,
    "webhook_url" TEXT,
    "webhook_status" TEXT,
    "webhook_attempts" INTEGER NOT NULL DEFAULT 0,
    "webhook_error" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "chat_jobs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "chat_jobs_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT "chat_jobs_webhook_status" CHECK ("webhook_status" IS NULL OR "webhook_status" IN ('pending', 'delivered', 'failed'))
);
CREATE UNIQUE INDEX "chat_jobs_tenant_id_id_key" ON "chat_jobs"("tenant_id", "id");
CREATE INDEX "chat_jobs_tenant_id_user_id_id_idx" ON "chat_jobs"("tenant_id", "user_id", "id");
ALTER TABLE "chat_jobs" ADD CONSTRAINT "chat_jobs_tenant_id_user_id_fkey"
    FOREIGN KEY ("tenant_id", "user_id") REFERENCES "users"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "chat_jobs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "chat_jobs" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "chat_jobs" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "chat_jobs" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "chat_jobs" TO quarry_app;
