import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { baseConfigSchema, tenantScope, type TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import type { Judgments } from '@quarry/evals';
import { UseLiteEmbeddingProvider } from '@quarry/models';
import { Bm25Retriever, DenseRetriever, denseDefaults, type Candidate } from '@quarry/retrieval';
import { log } from '../measure';
import { databaseEnv, OwnerDb } from '../platform';

/** One SciFact query with each retriever's candidates (chunk ids and raw scores, best first). */
export interface QueryCandidates {
  id: string;
  text: string;
  vector: number[];
  lexical: Candidate[];
  dense: Candidate[];
}

export interface CandidateCache {
  db: string;
  tenantId: string;
  collectionId: string;
  language: string;
  perList: number;
  /** chunk id → BEIR corpus id (the document name without `.md`). */
  corpusIdOf: Record<string, string>;
  queries: QueryCandidates[];
}

export interface SciFactSplit {
  queries: { id: string; text: string }[];
  qrels: Map<string, Judgments>;
}

/** The SciFact queries judged in `qrels/<split>.tsv` (queries.jsonl holds train and test claims). */
export async function loadSplit(dataDir: string, split: 'train' | 'test'): Promise<SciFactSplit> {
  const qrels = new Map<string, Map<string, number>>();
  const lines = (await readFile(path.join(dataDir, 'qrels', `${split}.tsv`), 'utf8')).split('\n').slice(1);
  for (const line of lines) {
    const [queryId, corpusId, score] = line.trim().split('\t');
    if (!queryId || !corpusId) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(corpusId, Number(score));
    qrels.set(queryId, judged);
  }
  const queries: { id: string; text: string }[] = [];
  for (const line of (await readFile(path.join(dataDir, 'queries.jsonl'), 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    const query = JSON.parse(line) as { _id: string; text: string };
    if (qrels.has(query._id)) queries.push({ id: query._id, text: query.text });
  }
  return { queries, qrels };
}

/**
 * Each query's BM25 and dense candidates from a SciFact collection that `npm run bench:retrieval -- --keep-db`
 * ingested, retrieved in-process as quarry_app (row-level security applies) with the retrievers the API uses.
 * Cached in a JSON file, so tuning and training read them again without touching the database.
 */
export async function candidateCache(options: {
  repoRoot: string;
  db: string;
  cacheFile: string;
  perList: number;
  queries: readonly { id: string; text: string }[];
}): Promise<CandidateCache> {
  if (existsSync(options.cacheFile)) {
    const cached = JSON.parse(await readFile(options.cacheFile, 'utf8')) as CandidateCache;
    const have = new Set(cached.queries.map((query) => query.id));
    if (cached.db === options.db && cached.perList >= options.perList && options.queries.every((query) => have.has(query.id))) {
      log(`candidates: cached in ${options.cacheFile}`);
      return cached;
    }
  }
  const env = await databaseEnv(options.repoRoot, options.db);
  const owner = await OwnerDb.connect(env.DATABASE_OWNER_URL);
  const appDb = await openAppDb(options.repoRoot, options.db);
  try {
    const collection = await owner.one<{ tenantId: string; collectionId: string; language: string }>(
      `SELECT c.tenant_id AS "tenantId", c.id AS "collectionId", coalesce(c.settings->>'language', 'english') AS language
       FROM collections c WHERE c.name LIKE 'scifact-%'
         AND (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND d.status = 'indexed') = 5183
       ORDER BY c.created_at DESC LIMIT 1`,
    );
    const names = await owner.query<{ id: string; name: string }>(
      `SELECT c.id, d.name FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.collection_id = $1`,
      [collection.collectionId],
    );
    const corpusIdOf = Object.fromEntries(names.map((row) => [row.id, row.name.replace(/\.md$/, '')]));
    const scope = tenantScope(collection.tenantId);
    const queries = await retrieveAll(appDb, scope, collection.language, options.perList, options.queries);
    const cache: CandidateCache = { db: options.db, ...collection, perList: options.perList, corpusIdOf, queries };
    await mkdir(path.dirname(options.cacheFile), { recursive: true });
    await writeFile(options.cacheFile, JSON.stringify(cache));
    return cache;
  } finally {
    await owner.close();
    await appDb.onModuleDestroy();
  }
}

/** The application's database access as quarry_app (row-level security applies), as the API has it. */
export async function openAppDb(repoRoot: string, db: string): Promise<Database> {
  const env = await databaseEnv(repoRoot, db);
  const appDb = new Database(baseConfigSchema.parse({ DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, DB_POOL_MAX: '2' }));
  await appDb.onModuleInit();
  return appDb;
}

async function retrieveAll(
  db: Database,
  scope: TenantScope,
  language: string,
  perList: number,
  queries: readonly { id: string; text: string }[],
): Promise<QueryCandidates[]> {
  const model = new UseLiteEmbeddingProvider();
  const bm25 = new Bm25Retriever(db);
  const dense = new DenseRetriever(db);
  log(`candidates: embedding ${queries.length} queries with ${model.model}`);
  const vectors = await model.embed(queries.map((query) => query.text), { purpose: 'query' });
  const out: QueryCandidates[] = [];
  for (const [index, query] of queries.entries()) {
    const vector = vectors[index]!;
    const filter = Prisma.sql`true`;
    const lexical = await bm25.search(scope, { text: query.text, language, limit: perList, filter });
    const { candidates } = await dense.search(scope, { vector, model: model.model, dimensions: model.dimensions, limit: perList, filter }, denseDefaults);
    out.push({ id: query.id, text: query.text, vector: vector.map((value) => Math.round(value * 1e6) / 1e6), lexical, dense: candidates });
    if ((index + 1) % 200 === 0) log(`candidates: ${index + 1} of ${queries.length} queries`);
  }
  return out;
}
