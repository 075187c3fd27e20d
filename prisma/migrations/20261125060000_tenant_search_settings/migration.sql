-- A tenant's search settings (fusion and reranking), between the deployment's defaults and each collection's
-- own settings. One row per tenant at most; no row means the deployment's defaults.

CREATE TABLE "tenant_search_settings" (
    "tenant_id" UUID NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "tenant_search_settings_pkey" PRIMARY KEY ("tenant_id")
);
ALTER TABLE "tenant_search_settings" ADD CONSTRAINT "tenant_search_settings_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "tenant_search_settings" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenant_search_settings" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tenant_search_settings" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "tenant_search_settings" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "tenant_search_settings" TO quarry_app;
