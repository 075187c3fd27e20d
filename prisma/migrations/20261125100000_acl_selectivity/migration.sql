-- Dense retrieval under tight ACLs, at scale.
--
-- A reader who may see 1% of a large tenant must get the exact nearest neighbours among those chunks: an
-- HNSW walk filtered afterwards finds only a third of them (measured: docs/architecture.md, Retrieval).
-- Deciding between the exact scan and the index needs the number of readable chunks BEFORE scanning, and
-- the exact scan needs the readable chunks through the ACL's GIN index. Under RLS neither works with plain
-- SQL: `acl && tokens` (arrayoverlap) is not leakproof, so the planner may not use it as an index condition,
-- and counting by scanning reads the whole tenant for a tight ACL (122 ms at 50k chunks; seconds at 1M).
--
-- 1. chunk_acl_counts: per tenant and ACL token, how many chunks carry it, kept exact by statement triggers
--    like the lexical statistics. The sum over a reader's tokens bounds the readable chunks from above.
-- 2. quarry_readable_chunks(tokens): the current tenant's chunks readable with these tokens, through the GIN
--    index (SECURITY DEFINER, like quarry_lexical_candidates: fixed body, values only, current tenant only).
-- 3. A covering index so the chunk count of a few collections is an index-only sum.

CREATE TABLE "chunk_acl_counts" (
    "tenant_id" UUID NOT NULL,
    "token" TEXT NOT NULL,
    "chunk_count" BIGINT NOT NULL,
    CONSTRAINT "chunk_acl_counts_pkey" PRIMARY KEY ("tenant_id", "token")
);
ALTER TABLE "chunk_acl_counts" ADD CONSTRAINT "chunk_acl_counts_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE;
ALTER TABLE "chunk_acl_counts" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "chunk_acl_counts" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "chunk_acl_counts" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "chunk_acl_counts" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "chunk_acl_counts" TO quarry_app;

-- One statement's net change per (tenant, token), applied in key order. Writers of a tenant first lock the
-- tenant's lexical_stats row (as the lexical triggers do), so they queue there and never deadlock on tokens.
CREATE FUNCTION quarry_apply_acl_count_delta(p_delta jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
BEGIN
    PERFORM 1 FROM lexical_stats s
        WHERE s.tenant_id IN (SELECT DISTINCT (e->>'tenant_id')::uuid FROM jsonb_array_elements(p_delta) e)
        ORDER BY s.tenant_id FOR UPDATE;
    INSERT INTO chunk_acl_counts AS k (tenant_id, token, chunk_count)
        SELECT (e->>'tenant_id')::uuid, e->>'token', (e->>'n')::bigint
        FROM jsonb_array_elements(p_delta) e
        ORDER BY 1, 2
        ON CONFLICT (tenant_id, token) DO UPDATE SET chunk_count = k.chunk_count + excluded.chunk_count;
    DELETE FROM chunk_acl_counts k
        USING (SELECT (e->>'tenant_id')::uuid AS tenant_id, e->>'token' AS token FROM jsonb_array_elements(p_delta) e) d
        WHERE k.tenant_id = d.tenant_id AND k.token = d.token AND k.chunk_count <= 0;
END
$$;

CREATE FUNCTION quarry_chunks_acl_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
DECLARE
    delta jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'token', token, 'n', n)) INTO delta
        FROM (SELECT r.tenant_id, u.token, count(*) AS n FROM new_rows r CROSS JOIN LATERAL unnest(r.acl) AS u(token)
              GROUP BY r.tenant_id, u.token) x;
    IF delta IS NOT NULL THEN
        PERFORM quarry_apply_acl_count_delta(delta);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION quarry_chunks_acl_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
DECLARE
    delta jsonb;
BEGIN
    -- A tenant being deleted has lost its counts already (their own cascade); applying -n then would
    -- insert negative rows that the FK refuses, so only tenants that still exist are counted down.
    SELECT jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'token', token, 'n', -n)) INTO delta
        FROM (SELECT r.tenant_id, u.token, count(*) AS n FROM old_rows r CROSS JOIN LATERAL unnest(r.acl) AS u(token)
              WHERE EXISTS (SELECT 1 FROM chunk_acl_counts k WHERE k.tenant_id = r.tenant_id AND k.token = u.token)
              GROUP BY r.tenant_id, u.token) x;
    IF delta IS NOT NULL THEN
        PERFORM quarry_apply_acl_count_delta(delta);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION quarry_chunks_acl_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
DECLARE
    delta jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'token', token, 'n', n)) INTO delta
        FROM (SELECT tenant_id, token, sum(sign) AS n FROM (
                  SELECT o.tenant_id, u.token, -1 AS sign FROM old_rows o CROSS JOIN LATERAL unnest(o.acl) AS u(token)
                  WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.tenant_id = o.tenant_id AND n.acl = o.acl)
                  UNION ALL
                  SELECT n.tenant_id, u.token, 1 AS sign FROM new_rows n CROSS JOIN LATERAL unnest(n.acl) AS u(token)
                  WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.tenant_id = n.tenant_id AND o.acl = n.acl)
              ) changes GROUP BY tenant_id, token HAVING sum(sign) <> 0) x;
    IF delta IS NOT NULL THEN
        PERFORM quarry_apply_acl_count_delta(delta);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER chunks_acl_counts_insert AFTER INSERT ON "chunks"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_acl_insert();
CREATE TRIGGER chunks_acl_counts_delete AFTER DELETE ON "chunks"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_acl_delete();
CREATE TRIGGER chunks_acl_counts_update AFTER UPDATE ON "chunks"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_acl_update();

INSERT INTO chunk_acl_counts (tenant_id, token, chunk_count)
    SELECT c.tenant_id, u.token, count(*) FROM chunks c CROSS JOIN LATERAL unnest(c.acl) AS u(token) GROUP BY 1, 2;

CREATE FUNCTION quarry_readable_chunks(p_tokens text[]) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    ROWS 1000
    AS $$
        SELECT c.id FROM chunks c WHERE c.tenant_id = quarry_current_tenant() AND c.acl && p_tokens
    $$;
REVOKE ALL ON FUNCTION quarry_readable_chunks(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quarry_readable_chunks(text[]) TO quarry_app;

CREATE INDEX "documents_collection_chunks_idx" ON "documents"("tenant_id", "collection_id") INCLUDE ("chunk_count")
    WHERE "superseded_at" IS NULL;
