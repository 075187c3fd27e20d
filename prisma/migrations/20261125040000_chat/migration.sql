-- Chat: conversations (each belongs to one user), their messages with citations, and one answer trace per
-- assistant message (what was asked, how it was answered, what it cost, and the user's feedback), so any
-- answer can be explained and replayed.

CREATE TABLE "conversations" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "collection_ids" UUID[] NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "conversations_tenant_id_id_key" ON "conversations"("tenant_id", "id");
CREATE INDEX "conversations_tenant_id_user_id_id_idx" ON "conversations"("tenant_id", "user_id", "id");
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_tenant_id_user_id_fkey"
    FOREIGN KEY ("tenant_id", "user_id") REFERENCES "users"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "citations" JSONB NOT NULL DEFAULT '[]',
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "messages_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "messages_role" CHECK ("role" IN ('user', 'assistant')),
    CONSTRAINT "messages_status" CHECK ("status" IN ('complete', 'no_answer', 'cancelled', 'failed'))
);
CREATE UNIQUE INDEX "messages_tenant_id_id_key" ON "messages"("tenant_id", "id");
CREATE INDEX "messages_tenant_id_conversation_id_id_idx" ON "messages"("tenant_id", "conversation_id", "id");
ALTER TABLE "messages" ADD CONSTRAINT "messages_tenant_id_conversation_id_fkey"
    FOREIGN KEY ("tenant_id", "conversation_id") REFERENCES "conversations"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "answer_traces" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "question" TEXT NOT NULL,
    "standalone_query" TEXT NOT NULL,
    "rewrite" TEXT NOT NULL,
    "template_version" TEXT NOT NULL,
    "provider" TEXT,
    "model" TEXT,
    "params" JSONB NOT NULL DEFAULT '{}',
    "retrieval_config" JSONB NOT NULL DEFAULT '{}',
    "retrieved" JSONB NOT NULL DEFAULT '[]',
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "latency_ms" INTEGER NOT NULL DEFAULT 0,
    "time_to_first_token_ms" INTEGER,
    "cost_usd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "dropped_citations" INTEGER NOT NULL DEFAULT 0,
    "cache_hit" BOOLEAN NOT NULL DEFAULT false,
    "finish_reason" TEXT,
    "error_code" TEXT,
    "feedback_rating" SMALLINT,
    "feedback_comment" TEXT,
    "feedback_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "answer_traces_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "answer_traces_feedback_rating" CHECK ("feedback_rating" IS NULL OR "feedback_rating" IN (-1, 1))
);
CREATE UNIQUE INDEX "answer_traces_tenant_id_message_id_key" ON "answer_traces"("tenant_id", "message_id");
CREATE INDEX "answer_traces_tenant_id_created_at_idx" ON "answer_traces"("tenant_id", "created_at");
ALTER TABLE "answer_traces" ADD CONSTRAINT "answer_traces_tenant_id_message_id_fkey"
    FOREIGN KEY ("tenant_id", "message_id") REFERENCES "messages"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "answer_traces" ADD CONSTRAINT "answer_traces_tenant_id_conversation_id_fkey"
    FOREIGN KEY ("tenant_id", "conversation_id") REFERENCES "conversations"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "conversations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "conversations" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "conversations" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "conversations" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "conversations" TO quarry_app;

ALTER TABLE "messages" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "messages" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "messages" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "messages" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "messages" TO quarry_app;

ALTER TABLE "answer_traces" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "answer_traces" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "answer_traces" TO quarry_app
    USING (tenant_id = quarry_current_tenant()) WITH CHECK (tenant_id = quarry_current_tenant());
CREATE POLICY owner_maintenance ON "answer_traces" TO quarry_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON "answer_traces" TO quarry_app;
