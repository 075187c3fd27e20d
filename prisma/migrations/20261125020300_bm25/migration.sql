-- Lexical retrieval that really is BM25. Postgres' ts_rank has no IDF, so each tenant keeps exact term
-- statistics: document frequency per term and the chunk count and total length, maintained by statement
-- triggers on chunks (insert, delete — including cascades — and text changes). Scoring happens in SQL at
-- query time from those statistics and each candidate's term frequencies (tsvector positions).

ALTER TABLE "chunks" ADD COLUMN "ts_config" regconfig NOT NULL DEFAULT 'english';
ALTER TABLE "chunks" ADD COLUMN "tsv" tsvector GENERATED ALWAYS AS (to_tsvector("ts_config", "text")) STORED;

-- Total term occurrences in a tsvector: BM25's document length (a generated column cannot read another, so
-- it tokenises again). Positions are capped at 256 per lexeme by Postgres; chunks are far shorter.
CREATE FUNCTION quarry_tsvector_length(v tsvector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::integer FROM unnest(v) AS u $$;
ALTER TABLE "chunks" ADD COLUMN "lex_length" integer GENERATED ALWAYS AS (quarry_tsvector_length(to_tsvector("ts_config", "text"))) STORED;

CREATE INDEX "chunks_tsv_idx" ON "chunks" USING GIN ("tsv");

CREATE TABLE "lexical_stats" (
    "tenant_id" UUID NOT NULL,
    "chunk_count" BIGINT NOT NULL,
    "total_length" BIGINT NOT NULL,
    CONSTRAINT "lexical_stats_pkey" PRIMARY KEY ("tenant_id")
);
CREATE TABLE "lexical_terms" (
    "tenant_id" UUID NOT NULL,
    "term" TEXT NOT NULL,
    "df" BIGINT NOT NULL,
    CONSTRAINT "lexical_terms_pkey" PRIMARY KEY ("tenant_id", "term")
);
ALTER TABLE "lexical_stats" ADD CONSTRAINT "lexical_stats_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE;
ALTER TABLE "lexical_terms" ADD CONSTRAINT "lexical_terms_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['lexical_stats', 'lexical_terms']
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

-- Each trigger applies one statement's net change. Terms are upserted in sorted order so concurrent
-- writers take row locks in the same order (no deadlocks).
CREATE FUNCTION quarry_chunks_lexical_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lexical_stats (tenant_id, chunk_count, total_length)
        SELECT tenant_id, count(*), sum(lex_length) FROM new_rows GROUP BY tenant_id ORDER BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET chunk_count = lexical_stats.chunk_count + excluded.chunk_count,
                                              total_length = lexical_stats.total_length + excluded.total_length;
    INSERT INTO lexical_terms (tenant_id, term, df)
        SELECT n.tenant_id, u.lexeme, count(*) FROM new_rows n, unnest(n.tsv) AS u
        GROUP BY n.tenant_id, u.lexeme ORDER BY n.tenant_id, u.lexeme
        ON CONFLICT (tenant_id, term) DO UPDATE SET df = lexical_terms.df + excluded.df;
    RETURN NULL;
END
$$;

CREATE FUNCTION quarry_chunks_lexical_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lexical_stats s SET chunk_count = s.chunk_count - o.n, total_length = s.total_length - o.len
        FROM (SELECT tenant_id, count(*) AS n, sum(lex_length) AS len FROM old_rows GROUP BY tenant_id ORDER BY tenant_id) o
        WHERE s.tenant_id = o.tenant_id;
    UPDATE lexical_terms t SET df = t.df - o.n
        FROM (SELECT r.tenant_id, u.lexeme, count(*) AS n FROM old_rows r, unnest(r.tsv) AS u
              GROUP BY r.tenant_id, u.lexeme ORDER BY r.tenant_id, u.lexeme) o
        WHERE t.tenant_id = o.tenant_id AND t.term = o.lexeme;
    DELETE FROM lexical_terms t USING (SELECT DISTINCT tenant_id FROM old_rows) o
        WHERE t.tenant_id = o.tenant_id AND t.df <= 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION quarry_chunks_lexical_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- An update is the removal of the old version and the addition of the new one.
    UPDATE lexical_stats s SET chunk_count = s.chunk_count + d.n, total_length = s.total_length + d.len
        FROM (SELECT tenant_id, sum(n) AS n, sum(len) AS len FROM (
                SELECT tenant_id, count(*) AS n, sum(lex_length) AS len FROM new_rows GROUP BY tenant_id
                UNION ALL
                SELECT tenant_id, -count(*), -sum(lex_length) FROM old_rows GROUP BY tenant_id) x
              GROUP BY tenant_id ORDER BY tenant_id) d
        WHERE s.tenant_id = d.tenant_id;
    INSERT INTO lexical_terms (tenant_id, term, df)
        SELECT tenant_id, lexeme, sum(n) FROM (
            SELECT r.tenant_id, u.lexeme, 1 AS n FROM new_rows r, unnest(r.tsv) AS u
            UNION ALL
            SELECT r.tenant_id, u.lexeme, -1 FROM old_rows r, unnest(r.tsv) AS u) x
        GROUP BY tenant_id, lexeme HAVING sum(n) <> 0 ORDER BY tenant_id, lexeme
        ON CONFLICT (tenant_id, term) DO UPDATE SET df = lexical_terms.df + excluded.df;
    DELETE FROM lexical_terms t USING (SELECT DISTINCT tenant_id FROM new_rows) o
        WHERE t.tenant_id = o.tenant_id AND t.df <= 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER chunks_lexical_insert AFTER INSERT ON "chunks"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_lexical_insert();
CREATE TRIGGER chunks_lexical_delete AFTER DELETE ON "chunks"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_lexical_delete();
CREATE TRIGGER chunks_lexical_update AFTER UPDATE ON "chunks"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quarry_chunks_lexical_update();

-- Existing chunks count from the start.
INSERT INTO lexical_stats (tenant_id, chunk_count, total_length)
    SELECT tenant_id, count(*), sum(lex_length) FROM chunks GROUP BY tenant_id;
INSERT INTO lexical_terms (tenant_id, term, df)
    SELECT c.tenant_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) AS u GROUP BY c.tenant_id, u.lexeme;
