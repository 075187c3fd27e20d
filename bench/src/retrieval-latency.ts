/**
 * Retrieval latency at scale (`npm run bench:latency`): one tenant of 1,000,000 chunks among 100 tenants,
 * synthetic but shaped like real data (bench/src/synthetic-corpus.ts). In order:
 *
 * 1. resets and migrates its own database (`--db`, default quarry_bench_latency);
 * 2. loads tenants, documents and chunks as the owner role, with the vector, full-text and ACL indexes
 *    dropped, then builds those three indexes exactly as the migrations define them, timing each and
 *    reading its size (`--keep-db` reuses a previous load of the same options);
 * 3. searches as quarry_app, under row-level security, through the same SearchService the API uses, with
 *    the query vectors precomputed (query embedding is excluded from every timing): dense, lexical and
 *    hybrid for a reader of the whole tenant, and hybrid plus dense for a reader whose ACL admits 1% of the
 *    documents, chosen at random, unrelated to any vector neighbourhood. Modes are interleaved query by
 *    query so that drift on a shared machine hits all of them alike;
 * 4. measures recall@10 of the filtered dense search against an exact scan of the same readable chunks;
 * 5. writes bench/results/retrieval-latency.{json,md} (retrieval-latency-quick.* for reduced sizes).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { baseConfigSchema, tenantScope, type TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { percentile } from '@quarry/evals';
import { EmbeddingProviders, type EmbeddingProvider, type EmbeddingResult } from '@quarry/models';
import { Bm25Retriever, bm25RetrieverDefaults, chunkConditions, fusionDefaults, SearchService, type SearchMode, type SearchRequest } from '@quarry/retrieval';
import { Client } from 'pg';
import { runBenchmark, writeResultFiles } from './entry';
import { log } from './measure';
import { assertBenchDatabase, databaseEnv, gitFacts, machineFacts, OwnerDb, postgresFacts, prepareDatabase } from './platform';
import { round } from './processes';
import { ClusteredVectors, seededRandom, syntheticWord, vectorLiteral, ZipfSampler } from './synthetic-corpus';

const repoRoot = path.resolve(__dirname, '../..');
const MODEL = 'use-lite-512';

interface LatencyOptions {
  chunks: number;
  tenants: number;
  otherTenantChunks: number;
  chunksPerDocument: number;
  dimensions: number;
  clusters: number;
  spread: number;
  vocabulary: number;
  zipfExponent: number;
  wordsPerChunk: number;
  queries: number;
  warmUp: number;
  aclPercent: number;
  topK: number;
  candidates: number;
  seed: number;
  maintenanceWorkMem: string;
  db: string;
  keepDb: boolean;
  outDir: string;
}

const FULL = { chunks: 1_000_000, tenants: 100, queries: 200 };

const usage = `Usage: npm run bench:latency -- [options]

Server-side retrieval latency for one tenant of 1,000,000 synthetic chunks among 100 tenants, searched
as quarry_app through SearchService (query embedding excluded): dense, lexical, hybrid, and hybrid under
an ACL that admits 1% of the documents; recall@10 of filtered dense search against exact search; index
build times and sizes. Needs a build (npm run build) and PostgreSQL with pgvector. Resets its own database.

  --chunks N              chunks of the measured tenant (default 1000000)
  --tenants N             tenants in all, the measured one included (default 100)
  --other-chunks N        chunks of every other tenant (default 2000)
  --chunks-per-doc N      chunks per document (default 10)
  --queries N             measured queries per mode (default 200)
  --acl-percent P         share of the measured tenant's documents the restricted reader may read (default 1)
  --maintenance-work-mem  maintenance_work_mem for the index builds (default 4GB; recorded)
  --seed N                corpus and query seed (default 42)
  --keep-db               reuse a previous load made with the same options
  --db NAME               database (default quarry_bench_latency; only quarry_bench* names are accepted)
  --out DIR               results directory (default bench/results)

Reduced sizes (fewer chunks, tenants or queries) write retrieval-latency-quick.{json,md}.
`;

function parseOptions(argv: string[]): LatencyOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      chunks: { type: 'string' },
      tenants: { type: 'string' },
      'other-chunks': { type: 'string' },
      'chunks-per-doc': { type: 'string' },
      queries: { type: 'string' },
      'acl-percent': { type: 'string' },
      'maintenance-work-mem': { type: 'string' },
      seed: { type: 'string' },
      'keep-db': { type: 'boolean' },
      db: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const integer = (name: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return parsed;
  };
  const aclPercent = values['acl-percent'] === undefined ? 1 : Number(values['acl-percent']);
  if (!(aclPercent > 0 && aclPercent <= 100)) throw new Error('--acl-percent must be in (0, 100]');
  const maintenanceWorkMem = values['maintenance-work-mem'] ?? '4GB';
  if (!/^\d+(kB|MB|GB)$/.test(maintenanceWorkMem)) throw new Error('--maintenance-work-mem must look like 512MB or 4GB');
  return {
    chunks: integer('chunks', values.chunks, FULL.chunks, 1_000),
    tenants: integer('tenants', values.tenants, FULL.tenants, 1),
    otherTenantChunks: integer('other-chunks', values['other-chunks'], 2_000, 0),
    chunksPerDocument: integer('chunks-per-doc', values['chunks-per-doc'], 10, 1),
    dimensions: 512,
    clusters: 1_000,
    spread: 0.75,
    vocabulary: 50_000,
    zipfExponent: 1.05,
    wordsPerChunk: 80,
    queries: integer('queries', values.queries, FULL.queries, 1),
    warmUp: 20,
    aclPercent,
    topK: 10,
    candidates: 100,
    seed: integer('seed', values.seed, 42, 0),
    maintenanceWorkMem,
    db: values.db ?? 'quarry_bench_latency',
    keepDb: values['keep-db'] ?? false,
    outDir: values.out ?? path.join(repoRoot, 'bench/results'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------

interface MeasuredTenant {
  tenantId: string;
  collectionId: string;
  /** Tokens of a reader of every document (the staff group). */
  broadTokens: string[];
  /** Tokens of a reader admitted to aclPercent of the documents only. */
  narrowTokens: string[];
  readableDocuments: number;
  documents: number;
}

interface LoadReport {
  reused: boolean;
  seconds: number;
  rows: { tenants: number; documents: number; chunks: number };
  indexes: { name: string; buildSeconds: number; sizeMb: number }[];
  tableSizeMb: number;
  /** Load averages when the index builds started: builds are timed, and other work slows them. */
  loadAverageAtIndexBuild: number[];
}

/** The indexes whose build the benchmark times: dropped before the load, recreated from their definitions. */
const timedIndexes = ['chunks_embedding_use_lite_512_hnsw', 'chunks_tsv_idx', 'chunks_acl_idx'];

const META_TABLE = 'bench_latency_meta';

function loadFingerprint(options: LatencyOptions): string {
  const { chunks, tenants, otherTenantChunks, chunksPerDocument, dimensions, clusters, spread, vocabulary, zipfExponent, wordsPerChunk, aclPercent, seed } =
    options;
  return JSON.stringify({ chunks, tenants, otherTenantChunks, chunksPerDocument, dimensions, clusters, spread, vocabulary, zipfExponent, wordsPerChunk, aclPercent, seed });
}

async function previousLoad(owner: Client, fingerprint: string): Promise<{ tenant: MeasuredTenant; report: LoadReport } | undefined> {
  await owner.query(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (fingerprint text PRIMARY KEY, tenant jsonb NOT NULL, report jsonb NOT NULL)`);
  const { rows } = await owner.query<{ tenant: MeasuredTenant; report: LoadReport }>(`SELECT tenant, report FROM ${META_TABLE} WHERE fingerprint = $1`, [fingerprint]);
  return rows[0];
}

interface ChunkBatch {
  ids: string[];
  tenantIds: string[];
  documentIds: string[];
  ordinals: number[];
  texts: string[];
  tokenCounts: number[];
  vectors: string[];
  acls: string[];
}

function emptyBatch(): ChunkBatch {
  return { ids: [], tenantIds: [], documentIds: [], ordinals: [], texts: [], tokenCounts: [], vectors: [], acls: [] };
}

/** A Postgres array literal of simple tokens (they never contain quotes, commas or braces). */
function textArray(tokens: readonly string[]): string {
  return `{${tokens.join(',')}}`;
}

async function insertChunks(owner: Client, batch: ChunkBatch): Promise<void> {
  await owner.query(
    `INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, token_count, embedding, embedding_model, acl, content_hash)
     SELECT id, tenant_id, document_id, ordinal, text, token_count, embedding::vector, $9, acl::text[], md5(text)
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[])
       AS r(id, tenant_id, document_id, ordinal, text, token_count, embedding, acl)`,
    [batch.ids, batch.tenantIds, batch.documentIds, batch.ordinals, batch.texts, batch.tokenCounts, batch.vectors, batch.acls, MODEL],
  );
}

async function insertDocuments(
  owner: Client,
  tenantId: string,
  collectionId: string,
  documents: readonly { id: string; acl: string[]; chunks: number }[],
): Promise<void> {
  await owner.query(
    `INSERT INTO documents (id, tenant_id, collection_id, title, source_type, name, lineage_id, status, stage, chunk_count,
                            embedding_model, indexed_at, acl, updated_at)
     SELECT id, $1, $2, 'synthetic ' || ordinality, 'upload', 'doc-' || ordinality || '.txt', id, 'indexed', 'index', chunks,
            $3, now(), acl::text[], now()
     FROM unnest($4::uuid[], $5::text[], $6::int[]) WITH ORDINALITY AS r(id, acl, chunks, ordinality)`,
    [tenantId, collectionId, MODEL, documents.map((d) => d.id), documents.map((d) => textArray(d.acl)), documents.map((d) => d.chunks)],
  );
}

interface Generators {
  vectors: ClusteredVectors;
  words: ZipfSampler;
  random: () => number;
}

/**
 * One tenant's documents and chunks. Rows go in batches of 2,000 through unnest; the next batch is generated
 * while Postgres writes the previous one, so the two cores share the work.
 */
async function loadTenant(
  owner: Client,
  generators: Generators,
  options: LatencyOptions,
  tenant: { id: string; collectionId: string },
  chunkCount: number,
  aclOf: (documentIndex: number) => string[],
  progress?: (done: number) => void,
): Promise<number> {
  const documentCount = Math.ceil(chunkCount / options.chunksPerDocument);
  const documents = Array.from({ length: documentCount }, (_, index) => ({
    id: randomUUID(),
    acl: aclOf(index),
    chunks: Math.min(options.chunksPerDocument, chunkCount - index * options.chunksPerDocument),
  }));
  for (let start = 0; start < documents.length; start += 5_000) {
    await insertDocuments(owner, tenant.id, tenant.collectionId, documents.slice(start, start + 5_000));
  }
  let pending: Promise<void> | undefined;
  let batch = emptyBatch();
  let done = 0;
  for (const document of documents) {
    // A document is about one topic or two: its chunks share clusters, as sections of one text do.
    const topics = [generators.vectors.randomCluster(), generators.vectors.randomCluster()];
    for (let ordinal = 0; ordinal < document.chunks; ordinal += 1) {
      const words = Math.round(options.wordsPerChunk * (0.5 + generators.random()));
      batch.ids.push(randomUUID());
      batch.tenantIds.push(tenant.id);
      batch.documentIds.push(document.id);
      batch.ordinals.push(ordinal);
      batch.texts.push(generators.words.text(words));
      batch.tokenCounts.push(words);
      batch.vectors.push(vectorLiteral(generators.vectors.point(topics[ordinal % 2 === 0 || generators.random() < 0.7 ? 0 : 1]!)));
      batch.acls.push(textArray(document.acl));
      if (batch.ids.length === 2_000) {
        await pending;
        pending = insertChunks(owner, batch);
        done += batch.ids.length;
        progress?.(done);
        batch = emptyBatch();
      }
    }
  }
  await pending;
  if (batch.ids.length > 0) await insertChunks(owner, batch);
  return documentCount;
}

async function load(owner: Client, options: LatencyOptions): Promise<{ tenant: MeasuredTenant; report: LoadReport }> {
  const fingerprint = loadFingerprint(options);
  if (options.keepDb) {
    const previous = await previousLoad(owner, fingerprint);
    if (previous) {
      log(`reusing the load of a previous run (${previous.report.rows.chunks} chunks)`);
      return { tenant: previous.tenant, report: { ...previous.report, reused: true } };
    }
    throw new Error('--keep-db: no previous load with these options in the database; run once without --keep-db');
  }
  await owner.query(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (fingerprint text PRIMARY KEY, tenant jsonb NOT NULL, report jsonb NOT NULL)`);
  const started = performance.now();
  const { rows: definitions } = await owner.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'chunks' AND indexname = ANY($1::text[])`,
    [timedIndexes],
  );
  if (definitions.length !== timedIndexes.length) throw new Error(`expected indexes ${timedIndexes.join(', ')} on chunks, found ${definitions.map((d) => d.indexname).join(', ')}`);
  for (const { indexname } of definitions) await owner.query(`DROP INDEX ${indexname}`);

  const random = seededRandom(options.seed);
  const generators: Generators = {
    random,
    vectors: new ClusteredVectors({ dimensions: options.dimensions, clusters: options.clusters, spread: options.spread }, random),
    words: new ZipfSampler(options.vocabulary, options.zipfExponent, random),
  };
  const staff = `g:${randomUUID()}`;
  const reader = `u:${randomUUID()}`;
  let measured: MeasuredTenant | undefined;
  let documents = 0;
  let chunks = 0;
  for (let index = 0; index < options.tenants; index += 1) {
    const tenantId = randomUUID();
    const collectionId = randomUUID();
    await owner.query(`INSERT INTO tenants (id, slug, name, updated_at) VALUES ($1, $2, $3, now())`, [tenantId, `lat-${index}`, `Latency tenant ${index}`]);
    await owner.query(`INSERT INTO collections (id, tenant_id, name, updated_at) VALUES ($1, $2, 'synthetic', now())`, [collectionId, tenantId]);
    await owner.query(`INSERT INTO lexical_stats (tenant_id, chunk_count, total_length) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING`, [tenantId]);
    if (index === 0) {
      let readable = 0;
      const count = await loadTenant(
        owner,
        generators,
        options,
        { id: tenantId, collectionId },
        options.chunks,
        () => {
          // Random, independent of topics: the reader's 1% is spread over every neighbourhood.
          const admitted = random() * 100 < options.aclPercent;
          if (admitted) readable += 1;
          return admitted ? [staff, reader] : [staff];
        },
        (done) => {
          if (done % 100_000 === 0) log(`measured tenant: ${done} of ${options.chunks} chunks`);
        },
      );
      measured = {
        tenantId,
        collectionId,
        broadTokens: ['everyone', `u:${randomUUID()}`, staff],
        narrowTokens: ['everyone', reader],
        readableDocuments: readable,
        documents: count,
      };
      documents += count;
      chunks += options.chunks;
    } else if (options.otherTenantChunks > 0) {
      documents += await loadTenant(owner, generators, options, { id: tenantId, collectionId }, options.otherTenantChunks, () => ['everyone']);
      chunks += options.otherTenantChunks;
      if (index % 20 === 0) log(`other tenants: ${index} of ${options.tenants - 1}`);
    }
  }
  if (!measured) throw new Error('no measured tenant was loaded');
  log(`loaded ${chunks} chunks in ${documents} documents of ${options.tenants} tenants in ${round((performance.now() - started) / 1000, 1)} s; building indexes`);

  const loadAverageAtIndexBuild = os.loadavg().map((value) => round(value, 2));
  await owner.query(`SET maintenance_work_mem = '${options.maintenanceWorkMem}'`);
  const indexes: LoadReport['indexes'] = [];
  for (const { indexname, indexdef } of definitions) {
    const buildStarted = performance.now();
    await owner.query(indexdef);
    const buildSeconds = round((performance.now() - buildStarted) / 1000, 1);
    const { rows } = await owner.query<{ bytes: string }>(`SELECT pg_relation_size($1::regclass)::text AS bytes`, [indexname]);
    indexes.push({ name: indexname, buildSeconds, sizeMb: round(Number(rows[0]!.bytes) / 2 ** 20, 1) });
    log(`index ${indexname}: ${buildSeconds} s, ${indexes.at(-1)!.sizeMb} MB`);
  }
  await owner.query('RESET maintenance_work_mem');
  await owner.query('VACUUM ANALYZE chunks');
  await owner.query('VACUUM ANALYZE documents');
  const { rows: size } = await owner.query<{ bytes: string }>(`SELECT pg_table_size('chunks')::text AS bytes`);
  const report: LoadReport = {
    reused: false,
    seconds: round((performance.now() - started) / 1000, 1),
    rows: { tenants: options.tenants, documents, chunks },
    indexes,
    tableSizeMb: round(Number(size[0]!.bytes) / 2 ** 20, 1),
    loadAverageAtIndexBuild,
  };
  await owner.query(`INSERT INTO ${META_TABLE} (fingerprint, tenant, report) VALUES ($1, $2, $3)`, [fingerprint, JSON.stringify(measured), JSON.stringify(report)]);
  return { tenant: measured, report };
}

// ---------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------

interface BenchQuery {
  text: string;
  vector: number[];
}

/**
 * Query words come from the same Zipf vocabulary, skipping its 50 most frequent words: in a real language
 * those are the stop words the text search configuration drops.
 */
function makeQueries(options: LatencyOptions, count: number): BenchQuery[] {
  const random = seededRandom(options.seed + 1);
  const vectors = new ClusteredVectors({ dimensions: options.dimensions, clusters: options.clusters, spread: options.spread }, seededRandom(options.seed));
  const words = new ZipfSampler(options.vocabulary, options.zipfExponent, random);
  const queries: BenchQuery[] = [];
  const seen = new Set<string>();
  while (queries.length < count) {
    const terms: string[] = [];
    while (terms.length < 3) {
      const rank = words.sample();
      if (rank >= 50) terms.push(syntheticWord(rank));
    }
    const text = terms.join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    queries.push({ text, vector: [...vectors.point(Math.floor(random() * options.clusters))] });
  }
  return queries;
}

/** Hands SearchService the precomputed query vectors, so no timing includes a model. */
class PrecomputedQueryVectors implements EmbeddingProvider {
  readonly model = MODEL;
  private readonly byText: Map<string, number[]>;

  constructor(
    readonly dimensions: number,
    queries: readonly BenchQuery[],
  ) {
    this.byText = new Map(queries.map((query) => [query.text, query.vector]));
  }

  embed(texts: readonly string[]): Promise<number[][]> {
    return Promise.resolve(
      texts.map((text) => {
        const vector = this.byText.get(text);
        if (!vector) throw new Error(`no precomputed vector for "${text}"`);
        return vector;
      }),
    );
  }

  async embedWithUsage(texts: readonly string[]): Promise<EmbeddingResult> {
    return { vectors: await this.embed(texts), tokens: 0 };
  }

  check(): Promise<void> {
    return Promise.resolve();
  }
}

type MeasuredMode = 'dense' | 'lexical' | 'hybrid' | 'hybridAcl1pct' | 'denseAcl1pct';

const modes: { key: MeasuredMode; mode: SearchMode; narrow: boolean; label: string }[] = [
  { key: 'dense', mode: 'dense', narrow: false, label: 'dense, reader of the whole tenant' },
  { key: 'lexical', mode: 'lexical', narrow: false, label: 'lexical (BM25), reader of the whole tenant' },
  { key: 'hybrid', mode: 'hybrid', narrow: false, label: 'hybrid, reader of the whole tenant' },
  { key: 'hybridAcl1pct', mode: 'hybrid', narrow: true, label: 'hybrid, reader of 1% of the documents' },
  { key: 'denseAcl1pct', mode: 'dense', narrow: true, label: 'dense, reader of 1% of the documents' },
];

interface ModeLatency {
  label: string;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  meanResults: number;
  /** Server time by part (p50), from SearchService's own timings. */
  partsP50Ms: { lexical: number; dense: number; fuse: number };
}

function searchRequest(tenant: MeasuredTenant, options: LatencyOptions, query: string, mode: SearchMode, narrow: boolean): SearchRequest {
  return {
    query,
    collections: [{ id: tenant.collectionId, language: 'english', embeddingModel: MODEL }],
    topK: options.topK,
    mode,
    filters: {},
    readerTokens: narrow ? tenant.narrowTokens : tenant.broadTokens,
    fusion: fusionDefaults,
    debug: false,
  };
}

async function measureModes(
  search: SearchService,
  scope: TenantScope,
  tenant: MeasuredTenant,
  options: LatencyOptions,
  warmUp: readonly BenchQuery[],
  queries: readonly BenchQuery[],
): Promise<{ latency: Record<MeasuredMode, ModeLatency>; denseAcl: Map<string, string[]>; dense: Map<string, string[]> }> {
  for (const query of warmUp) {
    for (const mode of modes) await search.search(scope, searchRequest(tenant, options, query.text, mode.mode, mode.narrow));
  }
  const samples = new Map<MeasuredMode, { total: number[]; lexical: number[]; dense: number[]; fuse: number[]; results: number[] }>(
    modes.map((mode) => [mode.key, { total: [], lexical: [], dense: [], fuse: [], results: [] }]),
  );
  const denseAcl = new Map<string, string[]>();
  const dense = new Map<string, string[]>();
  for (const [index, query] of queries.entries()) {
    for (const mode of modes) {
      const response = await search.search(scope, searchRequest(tenant, options, query.text, mode.mode, mode.narrow));
      const sample = samples.get(mode.key)!;
      sample.total.push(response.timingsMs.total - response.timingsMs.embed);
      sample.lexical.push(response.timingsMs.lexical);
      sample.dense.push(response.timingsMs.dense);
      sample.fuse.push(response.timingsMs.fuse);
      sample.results.push(response.results.length);
      if (mode.key === 'denseAcl1pct') denseAcl.set(query.text, response.results.map((result) => result.chunkId));
      if (mode.key === 'dense') dense.set(query.text, response.results.map((result) => result.chunkId));
    }
    if ((index + 1) % 50 === 0) log(`${index + 1} of ${queries.length} queries in every mode`);
  }
  const latency = Object.fromEntries(
    modes.map((mode) => {
      const sample = samples.get(mode.key)!;
      const result: ModeLatency = {
        label: mode.label,
        p50Ms: round(percentile(sample.total, 50), 1),
        p95Ms: round(percentile(sample.total, 95), 1),
        maxMs: round(Math.max(...sample.total), 1),
        meanResults: round(sample.results.reduce((sum, value) => sum + value, 0) / sample.results.length, 2),
        partsP50Ms: {
          lexical: round(percentile(sample.lexical, 50), 1),
          dense: round(percentile(sample.dense, 50), 1),
          fuse: round(percentile(sample.fuse, 50), 2),
        },
      };
      return [mode.key, result];
    }),
  ) as Record<MeasuredMode, ModeLatency>;
  return { latency, denseAcl, dense };
}

/**
 * The true top k by an exact scan: the distance expression is wrapped (`+ 0`) so no index can serve the
 * ORDER BY. Run as the owner; the conditions are the ones SearchService applies for the reader.
 */
async function exactTopK(owner: Client, tenant: MeasuredTenant, tokens: readonly string[], query: BenchQuery, k: number): Promise<string[]> {
  const { rows } = await owner.query<{ id: string }>(
    `SELECT c.id FROM chunks c
     WHERE c.tenant_id = $1 AND c.embedding_model = $2 AND c.acl && $3::text[]
     ORDER BY (c.embedding::vector(512) <=> $4::vector(512)) + 0, c.id LIMIT $5`,
    [tenant.tenantId, MODEL, tokens, vectorLiteral(query.vector), k],
  );
  return rows.map((row) => row.id);
}

async function recallAtK(owner: Client, tenant: MeasuredTenant, tokens: readonly string[], queries: readonly BenchQuery[], found: Map<string, string[]>, k: number): Promise<number> {
  let total = 0;
  for (const query of queries) {
    const exact = await exactTopK(owner, tenant, tokens, query, k);
    const got = new Set((found.get(query.text) ?? []).slice(0, k));
    total += exact.length === 0 ? 1 : exact.filter((id) => got.has(id)).length / exact.length;
  }
  return round(total / queries.length, 4);
}

interface LexicalAccuracy {
  /** Share of the exhaustive BM25 top 10 that the budgeted retriever (the default) returns. */
  overlapAt10: number;
  /** Queries whose budgeted ranking is provably the exhaustive one (MaxScore bound). */
  provablyExactShare: number;
  /** Queries where every term was a candidate term (nothing left out). */
  exhaustiveShare: number;
  budgetedMs: { p50: number; p95: number };
  exhaustiveMs: { p50: number; p95: number };
}

/**
 * The default lexical retriever against the exhaustive one (every matching chunk scored) on the same
 * queries, interleaved: what the candidate budget costs in ranking, and what it saves in time.
 */
async function lexicalAccuracy(appDb: Database, scope: TenantScope, tenant: MeasuredTenant, options: LatencyOptions, queries: readonly BenchQuery[]): Promise<LexicalAccuracy> {
  const budgeted = new Bm25Retriever(appDb);
  const exhaustive = new Bm25Retriever(appDb, { candidateBudget: Number.POSITIVE_INFINITY });
  const filter = chunkConditions([tenant.collectionId], tenant.broadTokens, {});
  let overlap = 0;
  let provablyExact = 0;
  let allTerms = 0;
  const budgetedMs: number[] = [];
  const exhaustiveMs: number[] = [];
  for (const query of queries) {
    const lexicalQuery = { text: query.text, language: 'english', limit: options.candidates, filter };
    let started = performance.now();
    const fast = await budgeted.searchWithPlan(scope, lexicalQuery);
    budgetedMs.push(performance.now() - started);
    started = performance.now();
    const full = await exhaustive.search(scope, lexicalQuery);
    exhaustiveMs.push(performance.now() - started);
    const top = new Set(fast.candidates.slice(0, 10).map((candidate) => candidate.chunkId));
    const truth = full.slice(0, 10);
    overlap += truth.length === 0 ? 1 : truth.filter((candidate) => top.has(candidate.chunkId)).length / truth.length;
    if (fast.plan.provablyExact) provablyExact += 1;
    if (fast.plan.essentialTerms === fast.plan.terms) allTerms += 1;
  }
  const spread = (values: number[]): { p50: number; p95: number } => ({ p50: round(percentile(values, 50), 1), p95: round(percentile(values, 95), 1) });
  return {
    overlapAt10: round(overlap / queries.length, 4),
    provablyExactShare: round(provablyExact / queries.length, 4),
    exhaustiveShare: round(allTerms / queries.length, 4),
    budgetedMs: spread(budgetedMs),
    exhaustiveMs: spread(exhaustiveMs),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(usage);
    return;
  }
  const options = parsed;
  assertBenchDatabase(options.db);
  const quick = options.chunks < FULL.chunks || options.tenants < FULL.tenants || options.queries < FULL.queries;
  const loadAverageAtStart = os.loadavg().map((value) => round(value, 2));
  const dbEnv = await databaseEnv(repoRoot, options.db);
  log((await prepareDatabase(repoRoot, dbEnv, !options.keepDb)).replace(/\n/g, ' | '));

  const owner = new Client({ connectionString: dbEnv.DATABASE_OWNER_URL });
  await owner.connect();
  const ownerFacts = await OwnerDb.connect(dbEnv.DATABASE_OWNER_URL);
  const appDb = new Database(baseConfigSchema.parse({ DATABASE_URL: dbEnv.DATABASE_URL, REDIS_URL: dbEnv.REDIS_URL, DB_POOL_MAX: '4' }));
  try {
    const { tenant, report } = await load(owner, options);
    const postgres = { ...(await postgresFacts(ownerFacts)), indexBuildMaintenanceWorkMem: options.maintenanceWorkMem };
    await appDb.onModuleInit();
    const allQueries = makeQueries(options, options.warmUp + options.queries);
    const warmUp = allQueries.slice(0, options.warmUp);
    const queries = allQueries.slice(options.warmUp);
    const search = new SearchService(appDb, new EmbeddingProviders([new PrecomputedQueryVectors(options.dimensions, allQueries)], MODEL), new Bm25Retriever(appDb));
    const scope = tenantScope(tenant.tenantId);

    log(`searching as quarry_app: ${options.warmUp} warm-up and ${queries.length} measured queries in ${modes.length} modes`);
    const measured = await measureModes(search, scope, tenant, options, warmUp, queries);
    log('recall@10 against exact scans');
    const filteredRecall = await recallAtK(owner, tenant, tenant.narrowTokens, queries, measured.denseAcl, options.topK);
    // An exact scan of the whole tenant reads every vector (seconds each at 1M): a sample of queries suffices.
    const unfilteredRecall = await recallAtK(owner, tenant, tenant.broadTokens, queries.slice(0, 25), measured.dense, options.topK);
    log('lexical: the default candidate budget against exhaustive BM25');
    const lexical = await lexicalAccuracy(appDb, scope, tenant, options, queries);

    const hybridP95 = measured.latency.hybrid.p95Ms;
    const hybridAclP95 = measured.latency.hybridAcl1pct.p95Ms;
    const result = {
      benchmark: 'retrieval-latency',
      quick,
      date: new Date().toISOString(),
      git: await gitFacts(repoRoot),
      options,
      settings: { machine: { ...machineFacts(), loadAverageAtStart }, postgres },
      corpus: {
        ...report.rows,
        measuredTenant: { chunks: options.chunks, documents: tenant.documents, readableByRestrictedReader: tenant.readableDocuments },
        vectors: `${options.dimensions}-d, ${options.clusters} clusters, noise ${options.spread} of the centroid norm`,
        text: `${options.wordsPerChunk}±50% words per chunk, Zipf(${options.zipfExponent}) over ${options.vocabulary} words`,
      },
      load: report,
      latencyMs: measured.latency,
      recallAt10: { denseAcl1pctVsExact: filteredRecall, denseVsExact: unfilteredRecall },
      lexicalVsExhaustive: lexical,
      goals: [
        { metric: 'latencyMs.hybrid.p95Ms', goal: '≤ 100', value: hybridP95, met: hybridP95 <= 100 },
        { metric: 'latencyMs.hybridAcl1pct.p95Ms', goal: '≤ 100', value: hybridAclP95, met: hybridAclP95 <= 100 },
        { metric: 'recallAt10.denseAcl1pctVsExact', goal: '≥ 0.95', value: filteredRecall, met: filteredRecall >= 0.95 },
      ],
    };
    await writeResultFiles(options.outDir, quick ? 'retrieval-latency-quick' : 'retrieval-latency', result, renderMarkdown(result));
  } finally {
    await appDb.onModuleDestroy().catch(() => undefined);
    await owner.end();
    await ownerFacts.close();
  }
}

function renderMarkdown(result: {
  quick: boolean;
  date: string;
  options: LatencyOptions;
  settings: { machine: Record<string, unknown>; postgres: Record<string, string> };
  corpus: { tenants: number; documents: number; chunks: number; measuredTenant: { chunks: number; documents: number; readableByRestrictedReader: number } };
  load: LoadReport;
  latencyMs: Record<MeasuredMode, ModeLatency>;
  recallAt10: { denseAcl1pctVsExact: number; denseVsExact: number };
  lexicalVsExhaustive: LexicalAccuracy;
  goals: { metric: string; goal: string; value: number; met: boolean }[];
}): string {
  const pg = result.settings.postgres;
  const goalOf = (metric: string): string => {
    const goal = result.goals.find((entry) => entry.metric === metric);
    return goal ? `${goal.goal} (${goal.met ? 'met' : '**not met**'})` : '';
  };
  return [
    `# Retrieval latency${result.quick ? ' (QUICK RUN: reduced sizes, not the benchmark)' : ''}`,
    '',
    `${result.date}; measured tenant ${result.corpus.measuredTenant.chunks} chunks in ${result.corpus.measuredTenant.documents} documents, ` +
      `${result.corpus.tenants} tenants and ${result.corpus.chunks} chunks in all; ${String(result.settings.machine.cpuCount)} CPUs, ` +
      `PostgreSQL ${pg.server_version ?? '?'} (shared_buffers ${pg.shared_buffers ?? '?'}, work_mem ${pg.work_mem ?? '?'}, index builds with maintenance_work_mem ${result.options.maintenanceWorkMem}), ` +
      `pgvector ${pg.pgvector ?? '?'}; load average at start ${String(result.settings.machine.loadAverageAtStart)}. ` +
      `Server time in SearchService as quarry_app under RLS, query embedding excluded; ${result.options.queries} queries per mode, interleaved; top ${result.options.topK}, the deployment's fusion defaults (${fusionDefaults.method}, ${fusionDefaults.candidates.lexical} lexical + ${fusionDefaults.candidates.dense} dense candidates).`,
    '',
    '| mode | p50 ms | p95 ms | max ms | goal (p95) | lexical / dense p50 ms | results |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...(Object.entries(result.latencyMs) as [MeasuredMode, ModeLatency][]).map(
      ([key, mode]) =>
        `| ${mode.label} | ${mode.p50Ms} | ${mode.p95Ms} | ${mode.maxMs} | ${goalOf(`latencyMs.${key}.p95Ms`)} | ${mode.partsP50Ms.lexical} / ${mode.partsP50Ms.dense} | ${mode.meanResults} |`,
    ),
    '',
    `Recall@10 against an exact scan: dense for the reader of 1% (${result.corpus.measuredTenant.readableByRestrictedReader} documents) ` +
      `**${result.recallAt10.denseAcl1pctVsExact}** (goal ${goalOf('recallAt10.denseAcl1pctVsExact')}); dense for the reader of the whole tenant ${result.recallAt10.denseVsExact} (first 25 queries).`,
    '',
    `Lexical with the default candidate budget (${bm25RetrieverDefaults.candidateBudget} postings) against exhaustive BM25 on the same queries: ` +
      `top-10 overlap ${result.lexicalVsExhaustive.overlapAt10}, provably exact for ${round(result.lexicalVsExhaustive.provablyExactShare * 100, 1)}% of queries ` +
      `(every term scored for ${round(result.lexicalVsExhaustive.exhaustiveShare * 100, 1)}%); p50/p95 ${result.lexicalVsExhaustive.budgetedMs.p50}/${result.lexicalVsExhaustive.budgetedMs.p95} ms ` +
      `vs exhaustive ${result.lexicalVsExhaustive.exhaustiveMs.p50}/${result.lexicalVsExhaustive.exhaustiveMs.p95} ms (retriever only, ${result.options.candidates} candidates).`,
    '',
    `Load${result.load.reused ? ' (reused from an earlier run)' : ''}: ${result.load.seconds} s; chunks table ${result.load.tableSizeMb} MB; ` +
      `load average when the index builds started ${result.load.loadAverageAtIndexBuild.join(', ')}.`,
    '',
    '| index | build s | size MB |',
    '| --- | --- | --- |',
    ...result.load.indexes.map((index) => `| ${index.name} | ${index.buildSeconds} | ${index.sizeMb} |`),
    '',
  ].join('\n');
}

runBenchmark('retrieval-latency', main, () => undefined);
