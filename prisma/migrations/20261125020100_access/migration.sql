-- Document-level permissions. A document's readers are its own grants when it has any, else its
-- collection's (the collection's default ACL). Grants name everyone in the tenant, a user, or a group.
--
-- The effective ACL is denormalised into `documents.acl` and `chunks.acl` as tokens ('everyone',
-- 'u:<user id>', 'g:<group id>'), so every retrieval path filters inside its SQL with one GIN-indexed
-- `acl && <reader's tokens>` before ranking, never afterwards. Grant changes rewrite the tokens in the same
-- transaction, so they take effect on the next query; group membership is resolved into tokens per query.
-- No grant anywhere means no reader: an empty ACL matches nothing.

CREATE TABLE "access_grants" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "collection_id" UUID,
    "document_id" UUID,
    "principal_type" TEXT NOT NULL,
    "principal_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "access_grants_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "access_grants_one_resource" CHECK (("collection_id" IS NULL) <> ("document_id" IS NULL)),
    CONSTRAINT "access_grants_principal" CHECK (
        ("principal_type" = 'everyone' AND "principal_id" IS NULL) OR
        ("principal_type" IN ('user', 'group') AND "principal_id" IS NOT NULL))
);
CREATE UNIQUE INDEX "access_grants_collection_principal_key" ON "access_grants"
    ("tenant_id", "collection_id", "principal_type", coalesce("principal_id", '00000000-0000-0000-0000-000000000000'))
    WHERE "collection_id" IS NOT NULL;
CREATE UNIQUE INDEX "access_grants_document_principal_key" ON "access_grants"
    ("tenant_id", "document_id", "principal_type", coalesce("principal_id", '00000000-0000-0000-0000-000000000000'))
    WHERE "document_id" IS NOT NULL;
CREATE INDEX "access_grants_tenant_id_principal_id_idx" ON "access_grants"("tenant_id", "principal_id");
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_tenant_id_collection_id_fkey"
    FOREIGN KEY ("tenant_id", "collection_id") REFERENCES "collections"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_tenant_id_document_id_fkey"
    FOREIGN KEY ("tenant_id", "document_id") REFERENCES "documents"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "access_grants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "access_grants" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "access_grants" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "access_grants" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "access_grants" TO quarry_app;

ALTER TABLE "documents" ADD COLUMN "acl" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "chunks" ADD COLUMN "acl" TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX "documents_acl_idx" ON "documents" USING GIN ("acl");
CREATE INDEX "chunks_acl_idx" ON "chunks" USING GIN ("acl");

-- A grant as a token.
CREATE FUNCTION quarry_grant_token(p_type text, p_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE p_type WHEN 'everyone' THEN 'everyone' WHEN 'user' THEN 'u:' || p_id WHEN 'group' THEN 'g:' || p_id END $$;

-- The effective ACL of one document: its own grants, else its collection's. Runs as the caller (RLS applies).
CREATE FUNCTION quarry_document_acl(p_tenant uuid, p_document uuid) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
        WITH own AS (
            SELECT quarry_grant_token(g.principal_type, g.principal_id) AS token
            FROM access_grants g WHERE g.tenant_id = p_tenant AND g.document_id = p_document
        ), inherited AS (
            SELECT quarry_grant_token(g.principal_type, g.principal_id) AS token
            FROM access_grants g JOIN documents d ON d.tenant_id = g.tenant_id AND d.collection_id = g.collection_id
            WHERE g.tenant_id = p_tenant AND d.id = p_document AND NOT EXISTS (SELECT 1 FROM own)
        )
        SELECT coalesce(array_agg(token ORDER BY token), '{}') FROM (SELECT token FROM own UNION SELECT token FROM inherited) t
    $$;
GRANT EXECUTE ON FUNCTION quarry_grant_token(text, uuid) TO quarry_app;
GRANT EXECUTE ON FUNCTION quarry_document_acl(uuid, uuid) TO quarry_app;

-- Collections that existed before permissions were readable by their whole tenant; keep them so.
INSERT INTO access_grants (id, tenant_id, collection_id, principal_type, created_at)
    SELECT gen_random_uuid(), c.tenant_id, c.id, 'everyone', now() FROM collections c;
UPDATE documents d SET acl = quarry_document_acl(d.tenant_id, d.id);
UPDATE chunks c SET acl = d.acl FROM documents d WHERE d.tenant_id = c.tenant_id AND d.id = c.document_id;
