/**
 * Ingestion benchmark (`npm run bench:ingestion`). Everything runs here, in order:
 *
 * 1. resets and migrates the benchmark database (QUARRY_DB_NAME, default quarry_bench);
 * 2. raw baseline: USE-Lite (`UseLiteEmbeddingProvider.embed`, batch 32) on exactly the chunk texts the
 *    pipeline makes of the corpus, in this process, before any server runs;
 * 3. starts the built API and worker (free ports, own Redis prefix, temporary storage);
 * 4. full ingest: every abstract uploaded through the public API (multipart, 100 files a request) until
 *    every document is indexed; documents/s, chunks/s, overhead against the raw baseline, worker peak RSS;
 * 5. refresh: the corpus uploaded again with 1% of the abstracts changed by one sentence (same names);
 *    embeddings recomputed (embedding_cache rows added) against the corpus' chunks, and the time;
 * 6. fairness: tenant B's few documents alone, then right after tenant A queued its backlog;
 * 7. writes bench/results/ingestion.json and ingestion.md (ingestion-quick.* for reduced runs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UseLiteEmbeddingProvider } from '@quarry/models';
import { uploadAll, type TenantApi } from './api';
import { alterOneSentence, changedIndices, loadCorpus, planChunks, toFile, type BenchFile, type CorpusRecord, type PlannedChunks } from './corpus';
import { batches, cpuSnapshot, cpuUse, documentTimings, lastIndexedAt, log, waitForDocuments, waitUntilSettled, type CpuUse, type DocumentTimings } from './measure';
import { FULL_FAIRNESS_BACKLOG, FULL_FAIRNESS_DOCS, parseOptions, usage, type IngestionBenchOptions } from './options';
import {
  assertBenchDatabase,
  databaseEnv,
  gitFacts,
  machineFacts,
  OwnerDb,
  postgresFacts,
  prepareDatabase,
  redisFacts,
} from './platform';
import { memoryOf, round } from './processes';
import { renderMarkdown } from './report';
import { runBenchmark, writeResultFiles } from './entry';
import { Stack } from './stack';

const repoRoot = path.resolve(__dirname, '../..');

export interface RawResult {
  passages: number;
  uniqueTexts: number;
  tokens: number;
  batchSize: number;
  modelLoadSeconds: number;
  seconds: number;
  embedRawPerSec: number;
  parseAndChunkSeconds: number;
}

export interface IngestResult {
  documents: number;
  duplicatesOnUpload: number;
  chunks: number;
  embedded: number;
  embeddingCacheRows: number;
  chunksMatchRawBaseline: boolean;
  uploadRequests: number;
  uploadSeconds: number;
  seconds: number;
  documentsPerSec: number;
  chunksPerSec: number;
  peakWorkerRssMb: number;
  workerRssMbAtEnd: number;
  cpu: CpuUse;
  timings: DocumentTimings;
}

export interface RefreshResult {
  documents: number;
  changedDocuments: number;
  unchangedReturnedAsDuplicates: number;
  newVersions: number;
  supersededVersions: number;
  corpusChunks: number;
  embeddingsRecomputed: number;
  embeddedPerStageRuns: number;
  cachedPerStageRuns: number;
  embeddingsRecomputedPct: number;
  uploadSeconds: number;
  seconds: number;
  timeVsFullIngestPct: number;
  cpu: CpuUse;
}

export interface FairnessResult {
  backlog: number;
  bDocuments: number;
  bChunks: number;
  aloneSeconds: number;
  withBacklogSeconds: number;
  fairnessRatio: number;
  aUploadSeconds: number;
  aWaitingWhenBUploaded: number;
  aIndexedWhileBWaited: number;
  queueEmptyBeforeAlone: boolean;
}

export interface BenchResult {
  benchmark: 'ingestion';
  quick: boolean;
  date: string;
  embedRawPerSec: number;
  ingestPerSec: { documents: number; chunks: number };
  overheadPct: number;
  peakWorkerRssMb: number;
  fairness: FairnessResult;
  refresh: RefreshResult;
  goals: { metric: string; value: number; goal: string; met: boolean }[];
  raw: RawResult;
  ingest: IngestResult;
  definitions: Record<string, string>;
  settings: Record<string, unknown>;
}

let activeStack: Stack | undefined;

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2), repoRoot);
  if (parsed === 'help') {
    console.log(usage);
    return;
  }
  const options = parsed;
  const dbName = process.env.QUARRY_DB_NAME ?? 'quarry_bench';
  assertBenchDatabase(dbName);

  const corpus = await loadCorpus(options.corpus);
  const ingestRecords = corpus.slice(0, options.limit ?? corpus.length);
  const quick =
    ingestRecords.length < corpus.length ||
    options.fairnessBacklog < FULL_FAIRNESS_BACKLOG ||
    options.fairnessDocs !== FULL_FAIRNESS_DOCS ||
    options.profileWorker;
  log(`corpus: ${corpus.length} abstracts; ingesting ${ingestRecords.length}${quick ? ' (QUICK RUN: results go to ingestion-quick.*)' : ''}`);

  const dbEnv = await databaseEnv(repoRoot, dbName);
  log(`database ${dbName}: ${options.keepDb ? 'kept' : 'dropped and recreated'}`);
  log((await prepareDatabase(repoRoot, dbEnv, !options.keepDb)).replace(/\n/g, ' | '));
  const db = await OwnerDb.connect(dbEnv.DATABASE_OWNER_URL);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'quarry-bench-ingestion-'));
  let succeeded = false;
  try {
    const stackSettings: Record<string, string> = {
      LOG_LEVEL: options.logLevel,
      INGEST_CONCURRENCY: String(options.ingestConcurrency),
      INGEST_TENANT_CONCURRENCY: String(options.tenantConcurrency),
      EMBED_BATCH_SIZE: String(options.embedBatch),
      EMBED_BATCH_WAIT_MS: String(options.embedWaitMs),
      EMBEDDING_USE_BATCH_SIZE: String(options.embedBatch),
      PARSE_THREADS: String(options.parseThreads),
      DB_POOL_MAX: String(options.dbPoolMax),
      UPLOAD_MAX_FILES: String(Math.max(100, options.uploadBatch)),
    };
    const settings: Record<string, unknown> = {
      machine: machineFacts(),
      git: await gitFacts(repoRoot),
      postgres: await postgresFacts(db),
      redis: await redisFacts(dbEnv.REDIS_URL),
      database: dbName,
      stack: { ...stackSettings, NODE_ENV: 'production', STORAGE_DRIVER: 'local', processes: '1 API + 1 worker' },
      corpus: { file: options.corpus, documents: ingestRecords.length, format: options.format },
      collection: { chunking: { maxTokens: options.maxTokens, overlapTokens: options.overlapTokens }, embeddingModel: 'use-lite-512' },
      uploadBatch: options.uploadBatch,
      refreshChangedPct: options.changedPct,
      fairness: { backlog: options.fairnessBacklog, bDocuments: options.fairnessDocs },
    };

    const files = ingestRecords.map((record) => toFile(record, options.format));
    const plan = await planChunks(files, { maxTokens: options.maxTokens, overlapTokens: options.overlapTokens });
    log(`parsed and chunked in-process: ${plan.texts.length} chunks (${plan.tokens} tokens) in ${plan.seconds.toFixed(1)} s`);
    const raw = await rawBaseline(plan, options.embedBatch);

    log(`starting API and worker (logs in ${workDir})`);
    const profileDir = path.join(workDir, 'profiles');
    const workerNodeArgs = options.profileWorker ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    if (options.profileWorker) settings.profiledWorker = `CPU profile in ${profileDir} (timings of this run are slowed by profiling)`;
    const stack = await Stack.start({ repoRoot, workDir, db: dbEnv, settings: stackSettings, workerNodeArgs });
    activeStack = stack;
    let ingest: IngestResult;
    let refresh: RefreshResult;
    let fairness: FairnessResult;
    try {
      const ingested = await fullIngest(stack, db, options, files, plan);
      ingest = ingested.result;
      refresh = await refreshPhase(stack, db, options, ingestRecords, files, ingested.tenant, ingested.collectionId, ingest);
      fairness = await fairnessPhase(stack, db, options, corpus);
      settings.workerPeakRssMbAllPhases = (await memoryOf(stack.worker.pid)).peakRssMb;
    } catch (error) {
      console.error(`--- api log (end) ---\n${await stack.api.tail()}\n--- worker log (end) ---\n${await stack.worker.tail()}`);
      throw error;
    } finally {
      activeStack = undefined;
      await stack.stop();
    }

    const overheadPct = round((raw.embedRawPerSec / ingest.chunksPerSec - 1) * 100, 1);
    const result: BenchResult = {
      benchmark: 'ingestion',
      quick,
      date: new Date().toISOString(),
      embedRawPerSec: raw.embedRawPerSec,
      ingestPerSec: { documents: ingest.documentsPerSec, chunks: ingest.chunksPerSec },
      overheadPct,
      peakWorkerRssMb: ingest.peakWorkerRssMb,
      fairness,
      refresh,
      goals: [
        { metric: 'overheadPct', value: overheadPct, goal: '<= 10', met: overheadPct <= 10 },
        { metric: 'fairness.fairnessRatio', value: fairness.fairnessRatio, goal: '<= 2', met: fairness.fairnessRatio <= 2 },
        {
          metric: 'refresh.embeddingsRecomputedPct',
          value: refresh.embeddingsRecomputedPct,
          goal: '<= 2',
          met: refresh.embeddingsRecomputedPct <= 2,
        },
      ],
      raw,
      ingest,
      definitions: {
        embedRawPerSec: 'chunk texts per second through UseLiteEmbeddingProvider.embed (batch size as configured) in the benchmark process, model already loaded',
        ingestPerSec: 'documents (chunks) per second from the first upload request to the last indexedAt reported by the API',
        overheadPct: '(embedRawPerSec / ingestPerSec.chunks - 1) * 100: how much longer ingesting takes than embedding the same chunks alone',
        peakWorkerRssMb: 'VmHWM of the worker process (/proc/<pid>/status) right after the full ingest',
        'fairness.fairnessRatio': "tenant B's time (upload to its last document indexed) with tenant A's backlog queued / B's time on an empty queue; B alone and B with backlog are two fresh tenants with the same documents, so neither has cached embeddings",
        'refresh.embeddingsRecomputedPct': "embedding_cache rows added by the refresh / chunks of the corpus after the full ingest * 100",
        'refresh.timeVsFullIngestPct': 'refresh seconds (first re-upload request to the later of the last upload response and the last changed document indexed) / full-ingest seconds * 100',
        cpu: 'CPU seconds from /proc over the phase: worker, API, this process, and everything else on the machine (Postgres, Redis, other load)',
      },
      settings,
    };
    await writeResults(options, result);
    succeeded = true;
  } finally {
    await db.close();
    if (succeeded && !options.keepWork) await rm(workDir, { recursive: true, force: true });
    else log(`work directory kept: ${workDir}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw baseline
// ---------------------------------------------------------------------------------------------------------

async function rawBaseline(plan: PlannedChunks, batchSize: number): Promise<RawResult> {
  const provider = new UseLiteEmbeddingProvider({ batchSize });
  const loadStarted = performance.now();
  await provider.check();
  const modelLoadSeconds = (performance.now() - loadStarted) / 1000;
  log(`raw baseline: embedding ${plan.texts.length} chunk texts with USE-Lite, batch ${batchSize}`);
  const started = performance.now();
  let lastReport = started;
  // Slices of ten batches, only so that progress can be shown; the provider batches each slice by batchSize.
  for (const slice of batches(plan.texts, batchSize * 10)) {
    const vectors = await provider.embed(slice);
    if (vectors.length !== slice.length) throw new Error('the provider returned the wrong number of vectors');
    if (performance.now() - lastReport > 15_000) {
      lastReport = performance.now();
      log(`raw baseline: ${Math.round(((performance.now() - started) / 1000) * 10) / 10} s`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const result: RawResult = {
    passages: plan.texts.length,
    uniqueTexts: new Set(plan.hashes).size,
    tokens: plan.tokens,
    batchSize,
    modelLoadSeconds: round(modelLoadSeconds, 2),
    seconds: round(seconds, 1),
    embedRawPerSec: round(plan.texts.length / seconds, 2),
    parseAndChunkSeconds: round(plan.seconds, 2),
  };
  log(`raw baseline: ${result.embedRawPerSec} passages/s (${result.seconds} s)`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Full ingest
// ---------------------------------------------------------------------------------------------------------

async function fullIngest(
  stack: Stack,
  db: OwnerDb,
  options: IngestionBenchOptions,
  files: readonly BenchFile[],
  plan: PlannedChunks,
): Promise<{ result: IngestResult; tenant: TenantApi; collectionId: string }> {
  const tenant = await stack.platform.createTenant('ingest');
  const collection = await tenant.createCollection('scifact', { maxTokens: options.maxTokens, overlapTokens: options.overlapTokens });
  if (collection.chunking.maxTokens !== options.maxTokens || collection.chunking.overlapTokens !== options.overlapTokens) {
    throw new Error(`the collection's chunking is ${JSON.stringify(collection.chunking)}, not what the raw baseline used`);
  }
  log(`full ingest: uploading ${files.length} documents, ${options.uploadBatch} per request`);
  const cpuBefore = await cpuSnapshot(stack);
  const started = Date.now();
  const uploaded = await uploadAll(tenant, collection.id, files, options.uploadBatch);
  const uploadSeconds = (Date.now() - started) / 1000;
  log(`full ingest: uploads accepted in ${uploadSeconds.toFixed(1)} s (${uploaded.duplicates} duplicates); waiting for indexing`);
  await waitUntilSettled(stack, db, tenant, collection.id, 'full ingest', options.stallSeconds);
  const cpuAfter = await cpuSnapshot(stack);
  const memory = await memoryOf(stack.worker.pid);

  const docs = await tenant.listAll(collection.id);
  const notIndexed = docs.filter((doc) => doc.status !== 'indexed');
  if (notIndexed.length > 0) throw new Error(`${notIndexed.length} documents are not indexed, e.g. ${JSON.stringify(notIndexed[0])}`);
  const expected = new Set(uploaded.documents.map((doc) => doc.id));
  if (docs.length !== expected.size) throw new Error(`the API lists ${docs.length} documents, the uploads created ${expected.size}`);
  const seconds = (lastIndexedAt(docs) - started) / 1000;
  const chunks = docs.reduce((sum, doc) => sum + doc.chunkCount, 0);

  // Are the chunks the pipeline stored exactly the texts the raw baseline embedded?
  const stored = await db.query<{ content_hash: string }>(`SELECT content_hash FROM chunks WHERE tenant_id = $1`, [tenant.tenantId]);
  const storedHashes = stored.map((row) => row.content_hash).sort();
  const plannedHashes = [...plan.hashes].sort();
  const chunksMatchRawBaseline = storedHashes.length === plannedHashes.length && storedHashes.every((hash, index) => hash === plannedHashes[index]);
  const embedded = await db.one<{ embedded: number }>(
    `SELECT coalesce(sum((details->>'embedded')::int), 0)::int AS embedded FROM document_stage_runs
     WHERE tenant_id = $1 AND stage = 'embed' AND status = 'succeeded'`,
    [tenant.tenantId],
  );
  const cacheRows = await embeddingCacheRows(db, tenant.tenantId);
  const timings = await documentTimings(db, tenant.tenantId, collection.id, 1);

  const result: IngestResult = {
    documents: docs.length,
    duplicatesOnUpload: uploaded.duplicates,
    chunks,
    embedded: embedded.embedded,
    embeddingCacheRows: cacheRows,
    chunksMatchRawBaseline,
    uploadRequests: uploaded.requests,
    uploadSeconds: round(uploadSeconds, 1),
    seconds: round(seconds, 1),
    documentsPerSec: round(docs.length / seconds, 2),
    chunksPerSec: round(chunks / seconds, 2),
    peakWorkerRssMb: memory.peakRssMb,
    workerRssMbAtEnd: memory.rssMb,
    cpu: cpuUse(cpuBefore, cpuAfter),
    timings,
  };
  log(`full ingest: ${result.documents} documents, ${result.chunks} chunks in ${result.seconds} s (${result.chunksPerSec} chunks/s)`);
  if (!chunksMatchRawBaseline) log(`WARNING: stored chunks (${storedHashes.length}) differ from the raw baseline's (${plannedHashes.length})`);
  return { result, tenant, collectionId: collection.id };
}

async function embeddingCacheRows(db: OwnerDb, tenantId: string): Promise<number> {
  return (await db.one<{ n: number }>(`SELECT count(*)::int AS n FROM embedding_cache WHERE tenant_id = $1`, [tenantId])).n;
}

// ---------------------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------------------

async function refreshPhase(
  stack: Stack,
  db: OwnerDb,
  options: IngestionBenchOptions,
  records: readonly CorpusRecord[],
  files: readonly BenchFile[],
  tenant: TenantApi,
  collectionId: string,
  ingest: IngestResult,
): Promise<RefreshResult> {
  const changedCount = Math.max(1, Math.round((records.length * options.changedPct) / 100));
  const changed = new Set(changedIndices(records.length, changedCount));
  const refreshed = files.map((file, index) => {
    const record = records[index];
    return changed.has(index) && record ? toFile(record, options.format, alterOneSentence(record.text)) : file;
  });
  const cacheBefore = await embeddingCacheRows(db, tenant.tenantId);
  log(`refresh: re-uploading ${refreshed.length} documents, ${changed.size} with one sentence changed`);
  const cpuBefore = await cpuSnapshot(stack);
  const started = Date.now();
  const uploaded = await uploadAll(tenant, collectionId, refreshed, options.uploadBatch);
  const uploadEnded = Date.now();
  const fresh = uploaded.documents.filter((doc) => doc.version > 1);
  if (fresh.length !== changed.size) throw new Error(`refresh: expected ${changed.size} new versions, the uploads made ${fresh.length}`);
  await waitUntilSettled(stack, db, tenant, collectionId, 'refresh', options.stallSeconds);
  const cpuAfter = await cpuSnapshot(stack);
  const views = await Promise.all(fresh.map((doc) => tenant.document(doc.id)));
  let embeddedPerStageRuns = 0;
  let cachedPerStageRuns = 0;
  for (const view of views) {
    if (view.status !== 'indexed') throw new Error(`refresh: ${view.name} v${view.version} is ${view.status}`);
    const embed = (view.stages ?? []).filter((run) => run.stage === 'embed' && run.status === 'succeeded').at(-1);
    embeddedPerStageRuns += Number(embed?.details?.embedded ?? 0);
    cachedPerStageRuns += Number(embed?.details?.cached ?? 0);
  }
  const cacheAfter = await embeddingCacheRows(db, tenant.tenantId);
  const superseded = await tenant.listAll(collectionId, 'superseded');
  const seconds = (Math.max(uploadEnded, lastIndexedAt(views)) - started) / 1000;
  const recomputed = cacheAfter - cacheBefore;
  const result: RefreshResult = {
    documents: refreshed.length,
    changedDocuments: changed.size,
    unchangedReturnedAsDuplicates: uploaded.duplicates,
    newVersions: fresh.length,
    supersededVersions: superseded.length,
    corpusChunks: ingest.chunks,
    embeddingsRecomputed: recomputed,
    embeddedPerStageRuns,
    cachedPerStageRuns,
    embeddingsRecomputedPct: round((recomputed / ingest.chunks) * 100, 2),
    uploadSeconds: round((uploadEnded - started) / 1000, 1),
    seconds: round(seconds, 1),
    timeVsFullIngestPct: round((seconds / ingest.seconds) * 100, 1),
    cpu: cpuUse(cpuBefore, cpuAfter),
  };
  log(`refresh: ${recomputed} embeddings recomputed (${result.embeddingsRecomputedPct}% of ${ingest.chunks} chunks) in ${result.seconds} s`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Fairness
// ---------------------------------------------------------------------------------------------------------

async function timeTenantUpload(stack: Stack, tenant: TenantApi, collectionId: string, files: readonly BenchFile[]): Promise<{ seconds: number; started: number; chunks: number }> {
  const started = Date.now();
  const items = await tenant.upload(collectionId, files);
  const ids = new Set(items.map((item) => item.document?.id ?? ''));
  const docs = await waitForDocuments(stack, tenant, collectionId, ids, 3_600);
  return { seconds: (lastIndexedAt(docs) - started) / 1000, started, chunks: docs.reduce((sum, doc) => sum + doc.chunkCount, 0) };
}

async function fairnessPhase(stack: Stack, db: OwnerDb, options: IngestionBenchOptions, corpus: readonly CorpusRecord[]): Promise<FairnessResult> {
  const bFiles = corpus.slice(-options.fairnessDocs).map((record) => toFile(record, options.format));
  const aFiles = corpus.slice(0, Math.min(options.fairnessBacklog, corpus.length)).map((record) => toFile(record, options.format));
  if (aFiles.length < options.fairnessBacklog) throw new Error(`--fairness-backlog ${options.fairnessBacklog} exceeds the corpus (${corpus.length})`);
  const chunking = { maxTokens: options.maxTokens, overlapTokens: options.overlapTokens };

  const inFlight = await db.one<{ n: number }>(
    `SELECT count(*)::int AS n FROM documents WHERE status IN ('queued', 'fetching', 'parsing', 'chunking', 'embedding', 'indexing')`,
  );
  const bAlone = await stack.platform.createTenant('b-alone');
  const bAloneCollection = await bAlone.createCollection('b', chunking);
  log(`fairness: tenant B alone uploads ${bFiles.length} documents (${inFlight.n} documents in flight anywhere)`);
  const alone = await timeTenantUpload(stack, bAlone, bAloneCollection.id, bFiles);
  log(`fairness: B alone took ${alone.seconds.toFixed(2)} s`);

  // Tenants and collections first, so that nothing but the uploads sits between A's backlog and B's upload.
  const a = await stack.platform.createTenant('a');
  const aCollection = await a.createCollection('a', chunking);
  const b = await stack.platform.createTenant('b');
  const bCollection = await b.createCollection('b', chunking);
  log(`fairness: tenant A uploads ${aFiles.length} documents, then tenant B uploads ${bFiles.length}`);
  const aStarted = Date.now();
  await uploadAll(a, aCollection.id, aFiles, options.uploadBatch);
  const aUploadSeconds = (Date.now() - aStarted) / 1000;
  const contended = await timeTenantUpload(stack, b, bCollection.id, bFiles);
  const bDone = contended.started + contended.seconds * 1000;
  const aProgress = await db.one<{ before: number; during: number }>(
    `SELECT count(*) FILTER (WHERE indexed_at <= $3)::int AS before,
            count(*) FILTER (WHERE indexed_at > $3 AND indexed_at <= $4)::int AS during
     FROM documents WHERE tenant_id = $1 AND collection_id = $2`,
    [a.tenantId, aCollection.id, new Date(contended.started), new Date(bDone)],
  );
  const result: FairnessResult = {
    backlog: aFiles.length,
    bDocuments: bFiles.length,
    bChunks: contended.chunks,
    aloneSeconds: round(alone.seconds, 2),
    withBacklogSeconds: round(contended.seconds, 2),
    fairnessRatio: round(contended.seconds / alone.seconds, 2),
    aUploadSeconds: round(aUploadSeconds, 1),
    aWaitingWhenBUploaded: aFiles.length - aProgress.before,
    aIndexedWhileBWaited: aProgress.during,
    queueEmptyBeforeAlone: inFlight.n === 0,
  };
  log(`fairness: B with ${result.aWaitingWhenBUploaded} of A's documents waiting took ${result.withBacklogSeconds} s (ratio ${result.fairnessRatio})`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------------

async function writeResults(options: IngestionBenchOptions, result: BenchResult): Promise<void> {
  await writeResultFiles(options.outDir, result.quick ? 'ingestion-quick' : 'ingestion', result, renderMarkdown(result));
}

runBenchmark('ingestion', main, () => activeStack);
