-- chunks.ts_config becomes TEXT. pg_upgrade (and the managed major-version upgrades built on it) refuses
-- clusters with a regconfig column in a user table, because the OIDs it stores are not preserved. The name
-- is resolved to the pg_catalog configuration by quarry_tsvector(), which the generated column and every
-- query use, so query terms and chunk terms come from exactly the same parser, dictionaries and stop list.
-- IMMUTABLE is the same promise to_tsvector(regconfig, text) makes, and what a generated column needs.

CREATE FUNCTION quarry_tsvector(p_config text, p_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_tsvector(('pg_catalog.' || p_config)::pg_catalog.regconfig, p_text) $$;
GRANT EXECUTE ON FUNCTION quarry_tsvector(text, text) TO quarry_app;

-- The generated columns depend on ts_config: drop them (and the GIN index with them), change the type,
-- and add them back. Tokenisation is unchanged, so the lexical statistics stay exact.
ALTER TABLE "chunks" DROP COLUMN "lex_length", DROP COLUMN "tsv";
ALTER TABLE "chunks" ALTER COLUMN "ts_config" DROP DEFAULT;
ALTER TABLE "chunks" ALTER COLUMN "ts_config" TYPE TEXT USING "ts_config"::text;
ALTER TABLE "chunks" ALTER COLUMN "ts_config" SET DEFAULT 'english';
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_ts_config_name" CHECK ("ts_config" ~ '^[a-z_]{1,40}$');
ALTER TABLE "chunks"
    ADD COLUMN "tsv" tsvector GENERATED ALWAYS AS (quarry_tsvector("ts_config", "text")) STORED,
    ADD COLUMN "lex_length" integer GENERATED ALWAYS AS (quarry_tsvector_length(quarry_tsvector("ts_config", "text"))) STORED;
CREATE INDEX "chunks_tsv_idx" ON "chunks" USING GIN ("tsv");
