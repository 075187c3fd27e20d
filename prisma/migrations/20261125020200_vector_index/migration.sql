-- Approximate nearest-neighbour index for the embedded default model (USE-Lite, 512 dimensions).
-- Vectors of different models never mix, so each model gets its own partial expression index (the column
-- itself has no fixed dimension). Another model's index is created the same way by the operator, as the
-- owner role, when that model is configured: `node libs/db/dist/migrate/cli.js vector-index <model> <dims>`.
CREATE INDEX "chunks_embedding_use_lite_512_hnsw" ON "chunks"
    USING hnsw (("embedding"::vector(512)) vector_cosine_ops)
    WHERE "embedding_model" = 'use-lite-512';
