-- Cost controls for model calls: per-tenant budget settings (budgets, rate limits, action at 100%, kill switch,
-- price overrides), running usage counters per period (what budgets are checked against), and budget alerts.
--
-- Counters are kept for both periods (UTC day and UTC month) for the tenant and for each user, upserted in the
-- same transaction as the usage event they count, so switching a tenant's period takes effect at once and the
-- counters never disagree with usage_events. Alerts are unique per subject, metric, period and threshold:
-- concurrent API instances that cross a threshold together record it once.

CREATE TABLE "budget_settings" (
    "tenant_id" UUID NOT NULL,
    "generation_enabled" BOOLEAN NOT NULL DEFAULT true,
    "period" TEXT NOT NULL DEFAULT 'month',
    "tenant_token_budget" BIGINT,
    "tenant_cost_budget_usd" DECIMAL(18,8),
    "user_token_budget" BIGINT,
    "user_cost_budget_usd" DECIMAL(18,8),
    "on_exceeded" TEXT NOT NULL DEFAULT 'block',
    "fallback_model" TEXT,
    "tenant_requests_per_minute" INTEGER,
    "tenant_tokens_per_minute" INTEGER,
    "user_requests_per_minute" INTEGER,
    "user_tokens_per_minute" INTEGER,
    "price_overrides" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "budget_settings_pkey" PRIMARY KEY ("tenant_id"),
    CONSTRAINT "budget_settings_period" CHECK ("period" IN ('day', 'month')),
    CONSTRAINT "budget_settings_on_exceeded" CHECK ("on_exceeded" IN ('block', 'fallback')),
    CONSTRAINT "budget_settings_positive" CHECK (
        coalesce("tenant_token_budget", 0) >= 0 AND coalesce("tenant_cost_budget_usd", 0) >= 0 AND
        coalesce("user_token_budget", 0) >= 0 AND coalesce("user_cost_budget_usd", 0) >= 0 AND
        coalesce("tenant_requests_per_minute", 1) > 0 AND coalesce("tenant_tokens_per_minute", 1) > 0 AND
        coalesce("user_requests_per_minute", 1) > 0 AND coalesce("user_tokens_per_minute", 1) > 0)
);
ALTER TABLE "budget_settings" ADD CONSTRAINT "budget_settings_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "usage_counters" (
    "tenant_id" UUID NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "tokens" BIGINT NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "usage_counters_pkey" PRIMARY KEY ("tenant_id", "subject_type", "subject_id", "period", "period_start"),
    CONSTRAINT "usage_counters_subject_type" CHECK ("subject_type" IN ('tenant', 'user')),
    CONSTRAINT "usage_counters_period" CHECK ("period" IN ('day', 'month'))
);
ALTER TABLE "usage_counters" ADD CONSTRAINT "usage_counters_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "usage_alerts" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "threshold" INTEGER NOT NULL,
    "used" DECIMAL(24,8) NOT NULL,
    "budget" DECIMAL(24,8) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "usage_alerts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "usage_alerts_subject_type" CHECK ("subject_type" IN ('tenant', 'user')),
    CONSTRAINT "usage_alerts_metric" CHECK ("metric" IN ('tokens', 'cost')),
    CONSTRAINT "usage_alerts_period" CHECK ("period" IN ('day', 'month')),
    CONSTRAINT "usage_alerts_threshold" CHECK ("threshold" IN (50, 80, 100))
);
CREATE UNIQUE INDEX "usage_alerts_once_key" ON "usage_alerts"
    ("tenant_id", "subject_type", "subject_id", "metric", "period", "period_start", "threshold");
CREATE INDEX "usage_alerts_tenant_id_created_at_idx" ON "usage_alerts"("tenant_id", "created_at");
ALTER TABLE "usage_alerts" ADD CONSTRAINT "usage_alerts_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- GET /v1/usage groups model calls by model, user and key within a time range.
CREATE INDEX "usage_events_tenant_id_model_created_at_idx" ON "usage_events"("tenant_id", "model", "created_at");

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['budget_settings', 'usage_counters', 'usage_alerts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO quarry_app
                            USING (tenant_id = quarry_current_tenant())
                            WITH CHECK (tenant_id = quarry_current_tenant())', t);
        EXECUTE format('CREATE POLICY owner_maintenance ON %I TO quarry_owner USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON "budget_settings", "usage_counters" TO quarry_app;
-- Alerts are a record of what happened: the application may insert and read them, never change them.
-- (No append-only trigger: it would also stop a tenant's deletion from cascading.)
GRANT SELECT, INSERT ON "usage_alerts" TO quarry_app;
