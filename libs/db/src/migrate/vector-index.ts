import { Client } from 'pg';

/** Creates (if missing) the partial HNSW index for one embedding model's vectors. Idempotent. */
export async function ensureVectorIndex(ownerUrl: string, model: string, dimensions: number): Promise<string> {
  if (!/^[A-Za-z0-9._:/-]{1,200}$/.test(model)) throw new Error(`Invalid model id "${model}"`);
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 2000) {
    throw new Error(`Invalid dimension ${dimensions} (HNSW indexes vectors of up to 2,000 dimensions)`);
  }
  const name = `chunks_embedding_${model.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase()}_${dimensions}_hnsw`.slice(0, 63);
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const literal = `'${model.replace(/'/g, "''")}'`;
    // CONCURRENTLY: a large table keeps serving reads and writes while the index builds.
    await client.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${name}" ON chunks USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE embedding_model = ${literal}`,
    );
    console.log(`[migrate] vector index ${name} ready`);
    return name;
  } finally {
    await client.end();
  }
}
