/**
 * Retrieval-quality benchmark on BEIR SciFact (`npm run bench:retrieval`). Everything runs here, in order:
 *
 * 1. resets and migrates its own database (`--db`, default quarry_bench_retrieval);
 * 2. starts the built API and worker (free ports, own Redis prefix, temporary storage), creates a tenant
 *    through the platform API and a collection whose chunking keeps every abstract in one chunk;
 * 3. uploads the abstracts through the public API (file name = BEIR corpus id + '.md', so a result's
 *    documentName is the judged id) and waits until every one is indexed;
 * 4. runs the BEIR test queries through POST /v1/search (topK 100) in each mode: lexical (BM25), hybrid
 *    (RRF), dense (USE-Lite); plus `tsrank`: plain ts_rank_cd through `TsRankRetriever`, called directly
 *    as quarry_app against the same chunks;
 * 5. scores every run with libs/evals (nDCG@10, recall@5/20/100, MRR@10; documents de-duplicated) and
 *    writes bench/results/retrieval-scifact.{json,md} (retrieval-scifact-quick.* for reduced runs).
 *
 * `--keep-db` keeps the database and reuses a previous run's fully indexed collection of exactly the same
 * documents and chunking, so repeated query runs skip the ingest.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { baseConfigSchema, tenantScope, type TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { ndcgAtK, parseBeirDataset, percentile, summarize, type Judgments, type QueryOutcome } from '@quarry/evals';
import { Bm25Retriever, bm25Defaults, denseDefaults, fuse, TsRankRetriever } from '@quarry/retrieval';
import { uploadAll, type CollectionInfo, type FusionSettings, type SearchMode, type SearchResponseBody, type TenantApi } from './api';
import { loadCorpus, planChunks, toFile, type BenchFile, type CorpusRecord } from './corpus';
import { cpuSnapshot, cpuUse, lastIndexedAt, log, waitUntilSettled, type CpuUse } from './measure';
import { assertBenchDatabase, databaseEnv, gitFacts, machineFacts, OwnerDb, postgresFacts, prepareDatabase, type DatabaseEnv } from './platform';
import { round } from './processes';
import { renderRetrievalMarkdown } from './retrieval-report';
import { runBenchmark, writeResultFiles } from './entry';
import { Stack } from './stack';

const repoRoot = path.resolve(__dirname, '../..');

/** The BEIR SciFact test split: 300 judged queries over 5,183 abstracts. */
const FULL_QUERIES = 300;
const FULL_CORPUS = 5_183;
const FULL_TOP_K = 100;

/** Published SciFact nDCG@10 (../shared/data/scifact/README.md), full corpus, the 300 test queries. */
const anchors: { system: string; ndcgAt10: number }[] = [
  { system: 'BM25, Anserini flat', ndcgAt10: 0.679 },
  { system: 'all-MiniLM-L6-v2 dense (MTEB)', ndcgAt10: 0.645 },
  { system: 'bge-small-en-v1.5 dense (MTEB)', ndcgAt10: 0.713 },
  { system: 'bge-base-en-v1.5 dense (Anserini)', ndcgAt10: 0.741 },
  { system: 'BM25 top-100 + ms-marco-MiniLM-L-6 cross-encoder', ndcgAt10: 0.688 },
  { system: 'BM25 top-100 + bge-reranker-v2-m3', ndcgAt10: 0.731 },
];

// ---------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------

export interface RetrievalBenchOptions {
  limitQueries: number | undefined;
  corpusLimit: number | undefined;
  db: string;
  keepDb: boolean;
  keepWork: boolean;
  maxTokens: number;
  overlapTokens: number;
  topK: number;
  uploadBatch: number;
  logLevel: string;
  stallSeconds: number;
  data: string;
  outDir: string;
}

const usage = `Usage: npm run bench:retrieval -- [options]

Retrieval quality on BEIR SciFact through the public API: the whole corpus ingested into a fresh tenant,
the 300 test queries searched in lexical (BM25), dense (USE-Lite) and hybrid (RRF) mode with topK 100,
plus plain ts_rank_cd called directly; nDCG@10, recall@5/20/100, MRR@10 and latency per mode. Needs a
build (npm run build), PostgreSQL with pgvector and Redis. Resets and uses its own database.

  --limit-queries N   only the first N test queries (default: all 300)
  --corpus-limit N    only the abstracts judged for those queries plus evenly spread distractors, N in all
                      (default: all 5,183; a reduced corpus inflates every score: for testing only)
  --keep-db           do not drop the database; reuse a previous run's fully indexed collection of the
                      same documents and chunking when there is one (skips the ingest)
  --keep-work         keep the temporary directory (storage, API and worker logs)
  --db NAME           database (default quarry_bench_retrieval; only quarry_bench* names are accepted)
  --max-tokens N      collection chunking maxTokens (default 2048: every SciFact abstract is one chunk)
  --overlap-tokens N  collection chunking overlapTokens (default 0)
  --top-k N           results per query, at most 100 (default 100)
  --upload-batch N    files per multipart request (default 100)
  --log-level L       LOG_LEVEL of API and worker (default info, as deployed)
  --stall-seconds N   give up when no document finishes for N seconds during the ingest (default 600)
  --data DIR          the SciFact directory (default ../shared/data/scifact)
  --out DIR           results directory (default bench/results)

Any reduced run (fewer queries, a smaller corpus or topK) writes retrieval-scifact-quick.{json,md}.
`;

function integer(name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return parsed;
}

function parseOptions(argv: string[]): RetrievalBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'limit-queries': { type: 'string' },
      'corpus-limit': { type: 'string' },
      db: { type: 'string' },
      'keep-db': { type: 'boolean' },
      'keep-work': { type: 'boolean' },
      'max-tokens': { type: 'string' },
      'overlap-tokens': { type: 'string' },
      'top-k': { type: 'string' },
      'upload-batch': { type: 'string' },
      'log-level': { type: 'string' },
      'stall-seconds': { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const logLevel = values['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
  const maxTokens = integer('max-tokens', values['max-tokens'], 2048, 64, 8192);
  return {
    limitQueries: values['limit-queries'] === undefined ? undefined : integer('limit-queries', values['limit-queries'], 0, 1),
    corpusLimit: values['corpus-limit'] === undefined ? undefined : integer('corpus-limit', values['corpus-limit'], 0, 1),
    db: values.db ?? 'quarry_bench_retrieval',
    keepDb: values['keep-db'] ?? false,
    keepWork: values['keep-work'] ?? false,
    maxTokens,
    overlapTokens: integer('overlap-tokens', values['overlap-tokens'], 0, 0, Math.min(1024, maxTokens - 1)),
    topK: integer('top-k', values['top-k'], FULL_TOP_K, 1, 100),
    uploadBatch: integer('upload-batch', values['upload-batch'], 100, 1, 1000),
    logLevel,
    stallSeconds: integer('stall-seconds', values['stall-seconds'], 600, 10),
    data: path.resolve(values.data ?? path.join(repoRoot, '../shared/data/scifact')),
    outDir: path.resolve(values.out ?? path.join(repoRoot, 'bench/results')),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------

export interface LatencySummary {
  p50: number;
  p95: number;
}

export interface RunResult {
  system: string;
  /** How the rankings were obtained. */
  via: string;
  queries: number;
  ndcgAt10: number;
  recallAt5: number;
  recallAt20: number;
  recallAt100: number;
  mrrAt10: number;
  /** Mean distinct documents returned per query (at most topK). */
  meanResults: number;
  queriesWithoutResults: number;
  latencyMs: {
    /** timingsMs.total of the response (API runs), or the in-process call (tsrank). */
    server: LatencySummary;
    /** Request sent to response parsed, in the benchmark process. */
    roundTrip: LatencySummary;
    /** p50 of each part of timingsMs (API runs). */
    parts?: { embed: number; lexical: number; dense: number; fuse: number; rerank?: number };
  };
  /** The query embeddings came from the API's query-vector cache (an earlier mode embedded the same queries). */
  queryEmbeddingCached?: boolean;
  cpu?: CpuUse;
}

export interface RetrievalBenchResult {
  benchmark: 'retrieval-scifact';
  quick: boolean;
  date: string;
  tsrank: RunResult;
  bm25: RunResult;
  dense: RunResult;
  hybrid: RunResult;
  hybridRerank: RunResult;
  best: { name: SystemName; system: string; ndcgAt10: number };
  notMeasured: Record<string, string>;
  anchors: { note: string; systems: { system: string; ndcgAt10: number }[] };
  dataset: { queries: number; judgments: number; corpusDocuments: number; fullQueries: number; fullCorpus: number; judgedDocumentsMissing: number };
  ingest: IngestSummary;
  checks: Record<string, unknown>;
  definitions: Record<string, string>;
  settings: Record<string, unknown>;
  /** nDCG@10 per query and system, for paired comparisons. */
  perQueryNdcgAt10: Record<string, Record<SystemName, number>>;
}

export type SystemName = 'tsrank' | 'bm25' | 'dense' | 'hybrid' | 'hybridRerank';

type Evaluation = Omit<RetrievalBenchResult, 'benchmark' | 'quick' | 'date' | 'anchors' | 'definitions'>;

export interface IngestSummary {
  reusedFromEarlierRun: boolean;
  tenantSlug: string;
  collectionId: string;
  documents: number;
  chunks: number;
  documentsWithMoreThanOneChunk: number;
  uploadSeconds: number | null;
  seconds: number | null;
  documentsPerSec: number | null;
}

let activeStack: Stack | undefined;

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

  // Dataset: the BEIR test queries (only those with a judgment), the first N of them, and their judgments.
  const dataset = parseBeirDataset(
    await readFile(path.join(options.data, 'queries.jsonl'), 'utf8'),
    await readFile(path.join(options.data, 'qrels/test.tsv'), 'utf8'),
  );
  const queries = dataset.queries.slice(0, options.limitQueries ?? dataset.queries.length);
  const qrels = new Map<string, Judgments>(queries.map((query) => [query.id, dataset.qrels.get(query.id)!]));
  const corpus = await loadCorpus(path.join(options.data, 'corpus.jsonl.gz'));
  const records = selectCorpus(corpus, qrels, options.corpusLimit);
  const quick = queries.length < dataset.queries.length || records.length < corpus.length || options.topK < FULL_TOP_K;
  log(
    `SciFact: ${queries.length} of ${dataset.queries.length} test queries, ${records.length} of ${corpus.length} abstracts` +
      (quick ? ' (QUICK RUN: results go to retrieval-scifact-quick.*)' : ''),
  );

  const chunking = { maxTokens: options.maxTokens, overlapTokens: options.overlapTokens };
  const files = records.map(benchFile);
  // The worker's own parse and chunk functions, in-process: does every abstract stay one chunk?
  const plan = await planChunks(files, chunking);
  const plannedMulti = plan.perDocument.filter((count) => count !== 1).length;
  log(`chunking ${JSON.stringify(chunking)}: ${plan.texts.length} chunks for ${files.length} abstracts (${plannedMulti} abstracts split)`);
  if (plannedMulti > 0) log(`WARNING: ${plannedMulti} abstracts are more than one chunk with these settings; use a larger --max-tokens`);
  const collectionName = `scifact-${fingerprint(files, chunking)}`;

  const dbEnv = await databaseEnv(repoRoot, options.db);
  log(`database ${options.db}: ${options.keepDb ? 'kept' : 'dropped and recreated'}`);
  log((await prepareDatabase(repoRoot, dbEnv, !options.keepDb)).replace(/\n/g, ' | '));
  const ownerDb = await OwnerDb.connect(dbEnv.DATABASE_OWNER_URL);
  const appDb = await connectAppDb(dbEnv);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'quarry-bench-retrieval-'));
  let succeeded = false;
  try {
    const stackSettings: Record<string, string> = { LOG_LEVEL: options.logLevel, UPLOAD_MAX_FILES: String(Math.max(100, options.uploadBatch)) };
    const settings: Record<string, unknown> = {
      machine: machineFacts(),
      git: await gitFacts(repoRoot),
      postgres: await postgresFacts(ownerDb),
      database: options.db,
      stack: { ...stackSettings, NODE_ENV: 'production', processes: '1 API + 1 worker', otherSettings: 'deployment defaults' },
    };

    log(`starting API and worker (logs in ${workDir})`);
    const stack = await Stack.start({ repoRoot, workDir, db: dbEnv, settings: stackSettings });
    activeStack = stack;
    let outcome: Evaluation;
    try {
      const { tenant, collection, ingest } = await ingestCorpus(stack, ownerDb, options, files, collectionName, chunking);
      outcome = await evaluate(stack, ownerDb, appDb, options, tenant, collection, ingest, queries, qrels, records);
      outcome.settings.chunking = { ...collection.chunking, plannedChunks: plan.texts.length, plannedAbstractsSplit: plannedMulti };
    } catch (error) {
      console.error(`--- api log (end) ---\n${await stack.api.tail()}\n--- worker log (end) ---\n${await stack.worker.tail()}`);
      throw error;
    } finally {
      activeStack = undefined;
      await stack.stop();
    }

    // Key order as read: the four measured systems, the one not measured, the best, the published anchors.
    const result: RetrievalBenchResult = {
      benchmark: 'retrieval-scifact',
      quick,
      date: new Date().toISOString(),
      tsrank: outcome.tsrank,
      bm25: outcome.bm25,
      dense: outcome.dense,
      hybrid: outcome.hybrid,
      hybridRerank: outcome.hybridRerank,
      best: outcome.best,
      notMeasured: outcome.notMeasured,
      anchors: {
        note: 'Published SciFact nDCG@10 on the full corpus and the 300 test queries (../shared/data/scifact/README.md). Comparable only with a full run.',
        systems: anchors,
      },
      dataset: outcome.dataset,
      ingest: outcome.ingest,
      checks: outcome.checks,
      definitions: {
        ndcgAt10: 'mean over the judged queries of nDCG@10 (trec_eval gain), ranking = documentName without .md, de-duplicated (libs/evals ndcgAtK)',
        recallAtK: 'share of the judged documents in the top k, averaged over queries (libs/evals recallAtK)',
        mrrAt10: 'reciprocal rank of the first judged document in the top 10 (libs/evals mrrAtK)',
        'latencyMs.server': "p50/p95 of the response's timingsMs.total (API runs) or of the in-process TsRankRetriever.search call (tsrank)",
        'latencyMs.roundTrip': 'p50/p95 of request sent to response parsed in the benchmark process, one query at a time',
        'latencyMs.parts': "p50 of each part of timingsMs; in hybrid mode the lexical query runs concurrently with the query embedding and the dense query, so the parts overlap (they do not add up to total) and compete for the same CPUs",
        best: 'the measured system with the highest nDCG@10',
      },
      settings: { ...settings, ...outcome.settings },
      perQueryNdcgAt10: outcome.perQueryNdcgAt10,
    };
    await writeResults(options, result);
    succeeded = true;
  } finally {
    await ownerDb.close();
    await appDb.onModuleDestroy();
    if (succeeded && !options.keepWork) await rm(workDir, { recursive: true, force: true });
    else log(`work directory kept: ${workDir}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------------------

/** The file an abstract is uploaded as: `<corpus id>.md`, `# title`, blank line, abstract. */
function benchFile(record: CorpusRecord): BenchFile {
  return { ...toFile(record, 'md'), name: `${record.id}.md` };
}

function corpusIdOf(documentName: string): string {
  return documentName.replace(/\.md$/, '');
}

/**
 * The whole corpus, or (with a limit) every abstract judged for the selected queries plus distractors
 * spread evenly over the rest, `limit` in all, in corpus order.
 */
function selectCorpus(corpus: readonly CorpusRecord[], qrels: ReadonlyMap<string, Judgments>, limit: number | undefined): CorpusRecord[] {
  if (limit === undefined || limit >= corpus.length) return [...corpus];
  const judged = new Set([...qrels.values()].flatMap((judgments) => [...judgments.keys()]));
  const keep = new Set(corpus.filter((record) => judged.has(record.id)).map((record) => record.id));
  if (keep.size > limit) throw new Error(`--corpus-limit ${limit} is smaller than the ${keep.size} abstracts judged for the selected queries`);
  const rest = corpus.filter((record) => !keep.has(record.id));
  const distractors = limit - keep.size;
  for (let k = 0; k < distractors; k++) keep.add(rest[Math.floor((k * rest.length) / distractors)]!.id);
  return corpus.filter((record) => keep.has(record.id));
}

/** Names a collection after exactly what it holds, so `--keep-db` reuses only an identical one. */
function fingerprint(files: readonly BenchFile[], chunking: { maxTokens: number; overlapTokens: number }): string {
  const hash = createHash('sha256').update(JSON.stringify(chunking));
  for (const file of files) hash.update(file.name).update('\0').update(file.content);
  return hash.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------------------------

async function ingestCorpus(
  stack: Stack,
  ownerDb: OwnerDb,
  options: RetrievalBenchOptions,
  files: readonly BenchFile[],
  collectionName: string,
  chunking: { maxTokens: number; overlapTokens: number },
): Promise<{ tenant: TenantApi; collection: CollectionInfo; ingest: IngestSummary }> {
  let tenant: TenantApi;
  let collection: CollectionInfo;
  let uploadSeconds: number | null = null;
  let started: number | undefined;
  const previous = options.keepDb ? await findIndexedCollection(ownerDb, collectionName, files.length) : undefined;
  if (previous) {
    tenant = await stack.platform.signIn(previous.slug, previous.tenantId);
    collection = await tenant.collection(previous.collectionId);
    log(`--keep-db: reusing tenant ${previous.slug}, collection ${collectionName} with all ${files.length} documents indexed (no ingest)`);
  } else {
    tenant = await stack.platform.createTenant('retrieval');
    collection = await tenant.createCollection(collectionName, chunking);
    if (collection.chunking.maxTokens !== chunking.maxTokens || collection.chunking.overlapTokens !== chunking.overlapTokens) {
      throw new Error(`the collection's chunking is ${JSON.stringify(collection.chunking)}, not ${JSON.stringify(chunking)}`);
    }
    log(`ingest: uploading ${files.length} abstracts, ${options.uploadBatch} per request`);
    started = Date.now();
    const uploaded = await uploadAll(tenant, collection.id, files, options.uploadBatch);
    uploadSeconds = (Date.now() - started) / 1000;
    if (uploaded.duplicates > 0) throw new Error(`${uploaded.duplicates} abstracts were answered as duplicates: their corpus ids would be missing`);
    log(`ingest: uploads accepted in ${uploadSeconds.toFixed(1)} s; waiting for indexing`);
    await waitUntilSettled(stack, ownerDb, tenant, collection.id, 'ingest', options.stallSeconds);
  }

  const docs = await tenant.listAll(collection.id);
  const notIndexed = docs.filter((doc) => doc.status !== 'indexed');
  if (notIndexed.length > 0) throw new Error(`${notIndexed.length} documents are not indexed, e.g. ${JSON.stringify(notIndexed[0])}`);
  const names = new Set(docs.map((doc) => doc.name));
  const missing = files.filter((file) => !names.has(file.name));
  if (missing.length > 0 || docs.length !== files.length) {
    throw new Error(`the collection holds ${docs.length} documents, expected ${files.length} (${missing.length} missing, e.g. ${missing[0]?.name ?? '-'})`);
  }
  const chunks = docs.reduce((sum, doc) => sum + doc.chunkCount, 0);
  const multi = docs.filter((doc) => doc.chunkCount !== 1).length;
  const seconds = started === undefined ? null : (lastIndexedAt(docs) - started) / 1000;
  const ingest: IngestSummary = {
    reusedFromEarlierRun: previous !== undefined,
    tenantSlug: tenant.slug,
    collectionId: collection.id,
    documents: docs.length,
    chunks,
    documentsWithMoreThanOneChunk: multi,
    uploadSeconds: uploadSeconds === null ? null : round(uploadSeconds, 1),
    seconds: seconds === null ? null : round(seconds, 1),
    documentsPerSec: seconds === null ? null : round(docs.length / seconds, 2),
  };
  log(`ingest: ${docs.length} documents indexed, ${chunks} chunks${seconds === null ? '' : ` in ${ingest.seconds} s (${ingest.documentsPerSec} docs/s)`}`);
  if (multi > 0) log(`WARNING: ${multi} documents have more than one chunk`);
  return { tenant, collection, ingest };
}

/** An earlier run's collection of the same name whose tenant holds nothing else and whose documents are all indexed. */
async function findIndexedCollection(db: OwnerDb, name: string, documents: number): Promise<{ tenantId: string; slug: string; collectionId: string } | undefined> {
  const [row] = await db.query<{ tenantId: string; slug: string; collectionId: string }>(
    `SELECT t.id AS "tenantId", t.slug, c.id AS "collectionId"
     FROM collections c JOIN tenants t ON t.id = c.tenant_id
     WHERE c.name = $1
       AND (SELECT count(*) FROM collections o WHERE o.tenant_id = c.tenant_id) = 1
       AND (SELECT count(*) FROM documents d WHERE d.tenant_id = c.tenant_id AND d.collection_id = c.id
              AND d.status = 'indexed' AND d.superseded_at IS NULL) = $2
       AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.tenant_id = c.tenant_id AND d.collection_id = c.id
              AND d.status NOT IN ('indexed', 'superseded'))
     ORDER BY c.created_at DESC LIMIT 1`,
    [name, documents],
  );
  return row;
}

// ---------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------

interface ModeRun {
  outcomes: QueryOutcome[];
  roundTrips: number[];
  parts: { embed: number[]; lexical: number[]; dense: number[]; fuse: number[]; rerank: number[] };
  results: number[];
  /** Reasons the API gave when a rerank request was not applied (should stay empty). */
  rerankNotApplied: string[];
  cpu: CpuUse;
}

const warmUpQueries = ['warm-up: protein expression in cancer cells', 'warm-up: vitamin D and bone density', 'warm-up: randomized trial of statins'];

async function runMode(
  stack: Stack,
  tenant: TenantApi,
  collectionId: string,
  mode: SearchMode,
  queries: readonly { id: string; text: string }[],
  topK: number,
  rerank = false,
): Promise<ModeRun> {
  // Not measured: the first dense query loads the model in the API, the first queries warm Postgres' caches.
  for (const query of warmUpQueries) await tenant.search({ query, collectionIds: [collectionId], topK, mode, rerank }, 120_000);
  const run: Omit<ModeRun, 'cpu'> = { outcomes: [], roundTrips: [], parts: { embed: [], lexical: [], dense: [], fuse: [], rerank: [] }, results: [], rerankNotApplied: [] };
  const before = await cpuSnapshot(stack);
  let lastReport = performance.now();
  for (const [index, query] of queries.entries()) {
    const { response, roundTripMs } = await tenant.search({ query: query.text, collectionIds: [collectionId], topK, mode, rerank }, 120_000);
    if (rerank && !response.rerank.applied) run.rerankNotApplied.push(response.rerank.reason ?? 'not applied');
    const ranking = [...new Set(response.results.map((result) => corpusIdOf(result.documentName)))];
    run.outcomes.push({ queryId: query.id, ranking, latencyMs: response.timingsMs.total });
    run.roundTrips.push(roundTripMs);
    for (const part of ['embed', 'lexical', 'dense', 'fuse', 'rerank'] as const) run.parts[part].push(response.timingsMs[part]);
    run.results.push(ranking.length);
    if (performance.now() - lastReport > 15_000) {
      lastReport = performance.now();
      log(`${mode}${rerank ? ' + rerank' : ''}: ${index + 1} of ${queries.length} queries`);
    }
  }
  return { ...run, cpu: cpuUse(before, await cpuSnapshot(stack)) };
}

function summarizeRun(system: string, via: string, outcomes: QueryOutcome[], roundTrips: number[], results: number[], qrels: ReadonlyMap<string, Judgments>): RunResult {
  const metrics = summarize(outcomes, qrels);
  return {
    system,
    via,
    queries: metrics.queries,
    ndcgAt10: round(metrics.ndcgAt10, 4),
    recallAt5: round(metrics.recallAt5, 4),
    recallAt20: round(metrics.recallAt20, 4),
    recallAt100: round(metrics.recallAt100, 4),
    mrrAt10: round(metrics.mrrAt10, 4),
    meanResults: round(results.reduce((sum, n) => sum + n, 0) / Math.max(results.length, 1), 1),
    queriesWithoutResults: results.filter((n) => n === 0).length,
    latencyMs: {
      server: { p50: round(metrics.latencyP50Ms, 1), p95: round(metrics.latencyP95Ms, 1) },
      roundTrip: { p50: round(percentile(roundTrips, 50), 1), p95: round(percentile(roundTrips, 95), 1) },
    },
  };
}

/**
 * The hybrid fusion the API applies, read back from a debug response: the settings it reports, and whether
 * fusing the traced lexical and dense candidates with those settings (libs/retrieval `fuse`) reproduces the
 * fused scores of the results.
 */
function checkFusion(response: SearchResponseBody): { fusion: FusionSettings; scoresMatch: boolean; lexicalCandidates: number; denseCandidates: number; maxScoreError: number } {
  const traced = (stage: string): { chunkId: string; documentId: string; score: number }[] =>
    (response.trace ?? []).find((entry) => entry.stage === stage)?.candidates.map((candidate) => ({ chunkId: candidate.chunkId, documentId: '', score: candidate.score })) ?? [];
  const lexical = traced('lexical');
  const dense = traced('dense');
  const { fusion } = response;
  const expected = new Map(
    fuse({ lexical, dense }, { method: fusion.method, normalisation: fusion.normalisation, weights: fusion.weights, rrfK: fusion.rrfK }).map((candidate) => [candidate.chunkId, candidate.score]),
  );
  let maxScoreError = 0;
  for (const result of response.results) maxScoreError = Math.max(maxScoreError, Math.abs((expected.get(result.chunkId) ?? Number.NaN) - result.scores.fused));
  return { fusion, scoresMatch: response.results.length > 0 && maxScoreError < 1e-9, lexicalCandidates: lexical.length, denseCandidates: dense.length, maxScoreError };
}

function fusionLabel(fusion: FusionSettings): string {
  const how = fusion.method === 'rrf' ? `RRF k=${fusion.rrfK}` : `weighted ${fusion.normalisation}`;
  return `${how}, weights lexical ${fusion.weights.lexical} / dense ${fusion.weights.dense}, ${fusion.candidates.lexical} + ${fusion.candidates.dense} candidates`;
}

/** The application's own database access, as quarry_app (row-level security applies), for the direct retrievers. */
async function connectAppDb(env: DatabaseEnv): Promise<Database> {
  const db = new Database(baseConfigSchema.parse({ DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, DB_POOL_MAX: '2' }));
  // Refuses a role that bypasses row-level security, as the API and worker do at boot.
  await db.onModuleInit();
  return db;
}

async function evaluate(
  stack: Stack,
  ownerDb: OwnerDb,
  appDb: Database,
  options: RetrievalBenchOptions,
  tenant: TenantApi,
  collection: CollectionInfo,
  ingest: IngestSummary,
  queries: readonly { id: string; text: string }[],
  qrels: ReadonlyMap<string, Judgments>,
  records: readonly CorpusRecord[],
): Promise<Evaluation> {
  const collectionIds = [collection.id];

  // What the API does, read back from its answers rather than assumed.
  const probe = await tenant.search({ query: warmUpQueries[0]!, collectionIds, topK: options.topK, mode: 'hybrid', debug: true }, 120_000);
  const fusion = checkFusion(probe.response);
  log(`hybrid fusion: ${fusionLabel(fusion.fusion)}; the API's fused scores ${fusion.scoresMatch ? 'match' : 'DO NOT match'} fuse() over its traced candidates`);
  const rerankProbe = await tenant.search({ query: warmUpQueries[0]!, collectionIds, topK: options.topK, mode: 'hybrid', rerank: true }, 120_000);
  const reranker = rerankProbe.response.rerank.provider ?? 'none';
  if (!rerankProbe.response.rerank.applied) throw new Error(`the API did not rerank: ${rerankProbe.response.rerank.reason ?? '?'}`);

  // Modes through the API, one query at a time. Hybrid runs before dense so that hybrid pays for embedding
  // each query (its cold path); hybridRerank and dense then find the query vectors in the API's cache.
  const runs = new Map<SearchMode | 'hybridRerank', ModeRun>();
  for (const mode of ['lexical', 'hybrid', 'hybridRerank', 'dense'] as const) {
    log(`${mode}: ${queries.length} queries through POST /v1/search (topK ${options.topK})`);
    const run = mode === 'hybridRerank'
      ? await runMode(stack, tenant, collection.id, 'hybrid', queries, options.topK, true)
      : await runMode(stack, tenant, collection.id, mode, queries, options.topK);
    runs.set(mode, run);
    const metrics = summarize(run.outcomes, qrels);
    log(`${mode}: nDCG@10 ${metrics.ndcgAt10.toFixed(4)}, recall@100 ${metrics.recallAt100.toFixed(4)}, server p50 ${metrics.latencyP50Ms.toFixed(1)} ms`);
  }
  const rerankNotApplied = runs.get('hybridRerank')!.rerankNotApplied;
  if (rerankNotApplied.length > 0) log(`WARNING: reranking did not apply to ${rerankNotApplied.length} queries, e.g. ${rerankNotApplied[0]}`);

  // tsrank: plain ts_rank_cd over the same chunks, as quarry_app in the tenant's scope.
  const scope = tenantScope(tenant.tenantId);
  const nameOf = await chunkNames(appDb, scope, collection.id);
  const tsRank = new TsRankRetriever(appDb);
  const tsOutcomes: QueryOutcome[] = [];
  const tsLatencies: number[] = [];
  const tsResults: number[] = [];
  const toRanking = (candidates: readonly { chunkId: string }[]): string[] =>
    [
      ...new Set(
        candidates.map((candidate) => {
          const name = nameOf.get(candidate.chunkId);
          if (name === undefined) throw new Error(`chunk ${candidate.chunkId} is not in collection ${collection.id}`);
          return corpusIdOf(name);
        }),
      ),
    ];
  for (const query of warmUpQueries) await tsRank.search(scope, { text: query, language: collection.language, limit: options.topK, filter: Prisma.sql`true` });
  log(`tsrank: ${queries.length} queries through TsRankRetriever (ts_rank_cd) directly`);
  for (const query of queries) {
    const started = performance.now();
    const candidates = await tsRank.search(scope, { text: query.text, language: collection.language, limit: options.topK, filter: Prisma.sql`true` });
    const ms = performance.now() - started;
    const ranking = toRanking(candidates);
    tsOutcomes.push({ queryId: query.id, ranking, latencyMs: ms });
    tsLatencies.push(ms);
    tsResults.push(ranking.length);
  }

  // Cross-check: the API's lexical mode equals Bm25Retriever called directly (the ACL filter removes nothing here).
  const bm25 = new Bm25Retriever(appDb);
  const lexicalRun = runs.get('lexical')!;
  let lexicalMismatches = 0;
  const crossChecked = Math.min(10, queries.length);
  for (const [index, query] of queries.slice(0, crossChecked).entries()) {
    const direct = toRanking(await bm25.search(scope, { text: query.text, language: collection.language, limit: options.topK, filter: Prisma.sql`true` }));
    if (JSON.stringify(direct) !== JSON.stringify(lexicalRun.outcomes[index]!.ranking)) lexicalMismatches += 1;
  }
  if (lexicalMismatches > 0) log(`WARNING: the API's lexical ranking differs from Bm25Retriever's for ${lexicalMismatches} of ${crossChecked} queries`);

  const fromApi = (mode: SearchMode | 'hybridRerank', system: string, cached: boolean): RunResult => {
    const run = runs.get(mode)!;
    const via = mode === 'hybridRerank' ? `POST /v1/search mode=hybrid rerank=true topK=${options.topK}` : `POST /v1/search mode=${mode} topK=${options.topK}`;
    const result = summarizeRun(system, via, run.outcomes, run.roundTrips, run.results, qrels);
    result.latencyMs.parts = {
      embed: round(percentile(run.parts.embed, 50), 1),
      lexical: round(percentile(run.parts.lexical, 50), 1),
      dense: round(percentile(run.parts.dense, 50), 1),
      fuse: round(percentile(run.parts.fuse, 50), 2),
      rerank: round(percentile(run.parts.rerank, 50), 1),
    };
    if (mode !== 'lexical') result.queryEmbeddingCached = cached;
    result.cpu = run.cpu;
    return result;
  };
  const models = await ownerDb.query<{ model: string | null; n: number }>(
    `SELECT embedding_model AS model, count(*)::int AS n FROM chunks WHERE tenant_id = $1 GROUP BY embedding_model`,
    [tenant.tenantId],
  );
  const embeddingModel = models.map((row) => row.model ?? 'none').join(', ');
  const tsrank = summarizeRun('ts_rank_cd (Postgres, no IDF)', `TsRankRetriever.search in-process as quarry_app, limit ${options.topK}`, tsOutcomes, tsLatencies, tsResults, qrels);
  const measured = {
    tsrank,
    bm25: fromApi('lexical', `BM25 (k1 ${bm25Defaults.k1}, b ${bm25Defaults.b})`, false),
    dense: fromApi('dense', `dense, ${embeddingModel}`, true),
    hybrid: fromApi('hybrid', `hybrid, ${fusionLabel(fusion.fusion)}`, false),
    hybridRerank: fromApi('hybridRerank', `hybrid (${fusionLabel(fusion.fusion)}) + ${reranker} reranker over the top ${String(rerankProbe.response.results.length)} fused`, true),
  };
  const [bestName, bestRun] = (Object.entries(measured) as [keyof typeof measured, RunResult][]).reduce((a, b) => (b[1].ndcgAt10 > a[1].ndcgAt10 ? b : a));

  const perQueryNdcgAt10: RetrievalBenchResult['perQueryNdcgAt10'] = {};
  const ndcgOf = (outcomes: readonly QueryOutcome[], id: string): number =>
    round(ndcgAtK(outcomes.find((outcome) => outcome.queryId === id)?.ranking ?? [], qrels.get(id)!, 10), 4);
  for (const query of queries) {
    perQueryNdcgAt10[query.id] = {
      tsrank: ndcgOf(tsOutcomes, query.id),
      bm25: ndcgOf(lexicalRun.outcomes, query.id),
      dense: ndcgOf(runs.get('dense')!.outcomes, query.id),
      hybrid: ndcgOf(runs.get('hybrid')!.outcomes, query.id),
      hybridRerank: ndcgOf(runs.get('hybridRerank')!.outcomes, query.id),
    };
  }

  const corpusIds = new Set(records.map((record) => record.id));
  const judged = new Set([...qrels.values()].flatMap((judgments) => [...judgments.keys()]));
  return {
    ...measured,
    best: { name: bestName, system: bestRun.system, ndcgAt10: bestRun.ndcgAt10 },
    notMeasured: {},
    dataset: {
      queries: queries.length,
      judgments: [...qrels.values()].reduce((sum, judgments) => sum + judgments.size, 0),
      corpusDocuments: records.length,
      fullQueries: FULL_QUERIES,
      fullCorpus: FULL_CORPUS,
      judgedDocumentsMissing: [...judged].filter((id) => !corpusIds.has(id)).length,
    },
    ingest,
    checks: {
      hybridFusion: fusion,
      rerankNotApplied: { queries: rerankNotApplied.length, firstReason: rerankNotApplied[0] ?? null },
      lexicalEqualsDirectBm25: { queries: crossChecked, mismatches: lexicalMismatches },
      chunkEmbeddingModels: Object.fromEntries(models.map((row) => [row.model ?? 'none', row.n])),
    },
    settings: {
      topK: options.topK,
      queryOrder: 'lexical, hybrid, hybridRerank, dense, then tsrank; one query at a time; 3 warm-up queries per system, not measured',
      bm25: { ...bm25Defaults, idf: 'Lucene ln(1 + (N - df + 0.5) / (df + 0.5)), exact per-tenant statistics', source: 'bm25Defaults (@quarry/retrieval), used by the API' },
      fusion: { ...fusion.fusion, source: 'the API defaults (fusionDefaults, chosen on SciFact TRAIN by npm run bench:fusion-tuning), read back from the response' },
      rerank: { provider: reranker, candidates: rerankProbe.response.results.length, source: 'the deployment default reranker; the learned ranker was trained on SciFact TRAIN only (npm run bench:train-ranker)' },
      dense: { ...denseDefaults, search: ingest.chunks <= denseDefaults.exactBelow ? 'exact (the collection has at most exactBelow chunks)' : 'HNSW' },
      embeddingModel: { collectionSetting: collection.embeddingModel ?? 'deployment default', chunks: embeddingModel },
      language: collection.language,
      corpusFormat: 'Markdown: "# title", blank line, abstract; file name <corpus _id>.md',
    },
    perQueryNdcgAt10,
  };
}

/** chunk id → document name for every current chunk of the collection, in one query. */
async function chunkNames(db: Database, scope: TenantScope, collectionId: string): Promise<Map<string, string>> {
  const rows = await db.tenant(scope, (tx) =>
    tx.$queryRaw<{ id: string; name: string }[]>`
      SELECT c.id, d.name FROM chunks c JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id
      WHERE c.tenant_id = ${scope.tenantId}::uuid AND d.collection_id = ${collectionId}::uuid AND d.superseded_at IS NULL`,
  );
  return new Map(rows.map((row) => [row.id, row.name]));
}

// ---------------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------------

async function writeResults(options: RetrievalBenchOptions, result: RetrievalBenchResult): Promise<void> {
  await writeResultFiles(options.outDir, result.quick ? 'retrieval-scifact-quick' : 'retrieval-scifact', result, renderRetrievalMarkdown(result));
}

runBenchmark('retrieval', main, () => activeStack);
