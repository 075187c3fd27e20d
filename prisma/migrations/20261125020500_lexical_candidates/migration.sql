-- Lexical retrieval, second pass: let BM25 use its GIN index under row-level security, and make the
-- statistics triggers cost what the statement changed rather than what the tenant holds.

-- ---------------------------------------------------------------------------------------------------------
-- 1. Candidates through the GIN index.
--
-- Under RLS, the planner may use a user's condition as an index condition only if its operator function is
-- LEAKPROOF, or it would evaluate it on rows the policy has not yet admitted. `tsvector @@ tsquery`
-- (ts_match_vq) is not leakproof, so for quarry_app `chunks_tsv_idx` is never used: every lexical query
-- read and matched every chunk of the tenant (measured on SciFact: the tenant's whole (tenant_id) index
-- range, then a filter on all 5,183 chunks, for a query matching 90). Marking ts_match_vq leakproof would
-- take a superuser and would not survive pg_upgrade or exist on managed Postgres; a view without
-- security_barrier would let crafted conditions (a failing cast in an error message) see other tenants' rows.
--
-- Instead, this one SECURITY DEFINER function answers "which chunks of the CURRENT tenant, in this
-- configuration, match this tsquery?". It runs as quarry_owner, whose policy admits every row, so the
-- planner can combine the GIN index with the tenant index; the body itself restricts rows to
-- quarry_current_tenant(), the same transaction-local setting RLS trusts, so it returns exactly the rows
-- quarry_app could see, and only their ids. The caller joins them back to chunks (by primary key, under RLS
-- again) to apply its own filters (collections, ACL) and to score. The arguments are values only: the body
-- is fixed, nothing the caller sends becomes SQL.
CREATE FUNCTION quarry_lexical_candidates(p_config text, p_query tsquery) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    ROWS 100
    AS $$
        SELECT c.id FROM chunks c
        WHERE c.tenant_id = quarry_current_tenant() AND c.ts_config = p_config AND c.tsv @@ p_query
    $$;
REVOKE ALL ON FUNCTION quarry_lexical_candidates(text, tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quarry_lexical_candidates(text, tsquery) TO quarry_app;

-- ---------------------------------------------------------------------------------------------------------
-- 2. Statistics triggers in proportion to the statement.
--
-- The first version removed zero-df terms with `DELETE … WHERE tenant_id = … AND df <= 0`, which visits
-- every term of the tenant on every delete or update of chunks (41k terms for SciFact; millions for a
-- large tenant), and its UPDATE trigger re-counted every updated chunk, so an ACL change over a collection
-- unpacked every tsvector twice and still locked the tenant's statistics row. Now:
--   * deletes remove only the terms the statement touched;
--   * updates count only rows whose tenant, configuration or tsvector changed (UPDATE triggers cannot be
--     limited to columns when they have transition tables), and do nothing else when there are none.
-- Behaviour is otherwise the same: the statistics row is always locked first, so concurrent writers of a
-- tenant queue on it (from their first chunk statement to commit) before touching any term, and cannot
-- deadlock across the delete-then-insert statements of one index transaction; terms are then changed in
-- (tenant_id, term) order.

CREATE OR REPLACE FUNCTION quarry_chunks_lexical_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
BEGIN
    UPDATE lexical_stats s SET chunk_count = s.chunk_count - o.n, total_length = s.total_length - o.len
        FROM (SELECT tenant_id, count(*) AS n, sum(lex_length) AS len FROM old_rows GROUP BY tenant_id) o
        WHERE s.tenant_id = o.tenant_id;
    -- Lock, in order, then decrement; a missing row (the tenant is being deleted and its statistics went
    -- first through their own cascade) is simply skipped.
    WITH gone AS (
        SELECT r.tenant_id, u.term, count(*) AS n
        FROM old_rows r CROSS JOIN LATERAL unnest(tsvector_to_array(r.tsv)) AS u(term)
        GROUP BY r.tenant_id, u.term
    ), locked AS (
        SELECT t.tenant_id, t.term, g.n FROM lexical_terms t JOIN gone g ON g.tenant_id = t.tenant_id AND g.term = t.term
        ORDER BY t.tenant_id, t.term
        FOR UPDATE OF t
    ), dropped AS (
        DELETE FROM lexical_terms t USING locked l
        WHERE t.tenant_id = l.tenant_id AND t.term = l.term AND t.df <= l.n
    )
    UPDATE lexical_terms t SET df = t.df - l.n
    FROM locked l
    WHERE t.tenant_id = l.tenant_id AND t.term = l.term AND t.df > l.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION quarry_chunks_lexical_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
DECLARE
    -- The versions that differ lexically: an old row whose id no longer has the same tenant, configuration
    -- and tsvector (-1), and a new row whose id did not have them before (+1). A constant, used by the
    -- three statements below (no temporary table: quarry_app has no TEMP privilege, and it would churn the
    -- catalog).
    delta constant text := '
        SELECT o.tenant_id, o.tsv, o.lex_length, -1 AS sign FROM old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.tenant_id = o.tenant_id
                            AND n.ts_config = o.ts_config AND n.tsv = o.tsv)
        UNION ALL
        SELECT n.tenant_id, n.tsv, n.lex_length, 1 AS sign FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.tenant_id = n.tenant_id
                            AND o.ts_config = n.ts_config AND o.tsv = n.tsv)';
    changed boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (%s)', delta) INTO changed;
    IF NOT changed THEN
        RETURN NULL;
    END IF;
    EXECUTE format('
        UPDATE lexical_stats s SET chunk_count = s.chunk_count + d.n, total_length = s.total_length + d.len
        FROM (SELECT tenant_id, sum(sign) AS n, sum(sign * lex_length) AS len FROM (%s) x GROUP BY tenant_id) d
        WHERE s.tenant_id = d.tenant_id', delta);
    -- Net change per term, upserted in order (a negative change always finds its row: the term was in the
    -- old version of a chunk), then the terms this statement brought to 0 are removed.
    EXECUTE format('
        INSERT INTO lexical_terms AS t (tenant_id, term, df)
        SELECT d.tenant_id, u.term, sum(d.sign)
        FROM (%s) d CROSS JOIN LATERAL unnest(tsvector_to_array(d.tsv)) AS u(term)
        GROUP BY d.tenant_id, u.term HAVING sum(d.sign) <> 0
        ORDER BY d.tenant_id, u.term
        ON CONFLICT (tenant_id, term) DO UPDATE SET df = t.df + excluded.df', delta);
    EXECUTE format('
        DELETE FROM lexical_terms t
        USING (SELECT DISTINCT d.tenant_id, u.term FROM (%s) d CROSS JOIN LATERAL unnest(tsvector_to_array(d.tsv)) AS u(term)
               WHERE d.sign < 0) g
        WHERE t.tenant_id = g.tenant_id AND t.term = g.term AND t.df <= 0', delta);
    RETURN NULL;
END
$$;

