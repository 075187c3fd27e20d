-- Per-tenant generation models: a tenant's named model configurations, ordered. Position 0 is the primary,
-- the rest the fallback order. No rows: the deployment's embedded model answers.
-- API keys are stored only sealed with AES-256-GCM under SECRETS_KEY (never readable from the database alone).

CREATE TABLE "tenant_models" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "base_url" TEXT,
    "model" TEXT NOT NULL,
    "context_window" INTEGER NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "api_key_sealed" TEXT,
    "position" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "tenant_models_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "tenant_models_kind" CHECK ("kind" IN ('llama-cpp', 'openai-compatible', 'anthropic')),
    CONSTRAINT "tenant_models_remote_has_url" CHECK (("kind" = 'llama-cpp') = ("base_url" IS NULL)),
    CONSTRAINT "tenant_models_context_window" CHECK ("context_window" > 0),
    CONSTRAINT "tenant_models_position" CHECK ("position" >= 0)
);
CREATE UNIQUE INDEX "tenant_models_tenant_id_id_key" ON "tenant_models"("tenant_id", "id");
CREATE UNIQUE INDEX "tenant_models_tenant_id_name_key" ON "tenant_models"("tenant_id", "name");
CREATE UNIQUE INDEX "tenant_models_tenant_id_position_key" ON "tenant_models"("tenant_id", "position");
ALTER TABLE "tenant_models" ADD CONSTRAINT "tenant_models_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "tenant_models" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenant_models" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tenant_models" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "tenant_models" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "tenant_models" TO quarry_app;
