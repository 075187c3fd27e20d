-- Tenant isolation, second line of defence: row-level security, enabled and forced.
--
-- quarry_app (API and workers) owns nothing, has no BYPASSRLS, and sees only rows whose tenant_id equals
-- the transaction-local setting app.tenant_id (set by TenantDb for every unit of work). With no tenant set,
-- quarry_current_tenant() is NULL and every policy is false: deny by default.
-- quarry_owner (migrations, and the SECURITY DEFINER lookups below) has its own explicit policies.

CREATE FUNCTION quarry_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'groups', 'group_members', 'sessions', 'api_keys', 'audit_events',
                             'usage_events', 'collections', 'documents', 'chunks']
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

ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tenants" TO quarry_app
    USING (id = quarry_current_tenant()) WITH CHECK (id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "tenants" TO quarry_owner USING (true) WITH CHECK (true);

-- Data access for the application role. Audit and usage events are append-only.
GRANT USAGE ON SCHEMA public TO quarry_app;
GRANT SELECT, UPDATE ON "tenants" TO quarry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON "users", "groups", "group_members", "sessions", "api_keys",
    "collections", "documents", "chunks" TO quarry_app;
GRANT SELECT, INSERT ON "audit_events", "usage_events" TO quarry_app;
GRANT EXECUTE ON FUNCTION quarry_current_tenant() TO quarry_app;

CREATE FUNCTION quarry_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION quarry_reject_change();
CREATE TRIGGER usage_events_append_only BEFORE UPDATE OR DELETE ON "usage_events"
    FOR EACH ROW EXECUTE FUNCTION quarry_reject_change();

-- The few questions that must be answered before a tenant is known. Each is SECURITY DEFINER (runs as
-- quarry_owner), answers one narrow question, and returns only what the caller needs to continue under
-- that tenant's scope. Nothing else crosses tenants.

-- Sign-in by tenant slug.
CREATE FUNCTION quarry_tenant_by_slug(p_slug text)
    RETURNS TABLE (id uuid, slug text, name text, status tenant_status, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT t.id, t.slug, t.name, t.status, t.created_at FROM tenants t WHERE t.slug = p_slug $$;

-- Bearer API key: the lookup prefix names one key; the caller verifies the secret hash.
CREATE FUNCTION quarry_api_key_by_prefix(p_prefix text)
    RETURNS TABLE (id uuid, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT k.id, k.tenant_id FROM api_keys k WHERE k.prefix = p_prefix $$;

-- Session cookie: the token hash names one session.
CREATE FUNCTION quarry_session_by_token_hash(p_token_hash text)
    RETURNS TABLE (id uuid, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT s.id, s.tenant_id FROM sessions s WHERE s.token_hash = p_token_hash $$;

-- Platform administration: create and list tenants.
CREATE FUNCTION quarry_platform_create_tenant(p_id uuid, p_slug text, p_name text)
    RETURNS TABLE (id uuid, slug text, name text, status tenant_status, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        INSERT INTO tenants (id, slug, name, updated_at) VALUES (p_id, p_slug, p_name, now())
        RETURNING tenants.id, tenants.slug, tenants.name, tenants.status, tenants.created_at
    $$;

CREATE FUNCTION quarry_platform_list_tenants(p_after uuid, p_limit integer)
    RETURNS TABLE (id uuid, slug text, name text, status tenant_status, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT t.id, t.slug, t.name, t.status, t.created_at FROM tenants t
        WHERE p_after IS NULL OR t.id > p_after
        ORDER BY t.id LIMIT least(greatest(p_limit, 1), 200)
    $$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['quarry_tenant_by_slug(text)', 'quarry_api_key_by_prefix(text)',
                             'quarry_session_by_token_hash(text)', 'quarry_platform_create_tenant(uuid, text, text)',
                             'quarry_platform_list_tenants(uuid, integer)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO quarry_app', f);
    END LOOP;
END
$$;
