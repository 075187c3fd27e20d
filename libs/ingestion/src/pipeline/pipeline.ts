import { Logger } from '@nestjs/common';
import { tenantScope, type TenantScope } from '@quarry/core';
import type { Database, DocumentModel } from '@quarry/db';
import { artifactPrefix, type CollectionsService, type DocumentsService, type Stage } from '@quarry/documents';
import type { UsageWriter } from '@quarry/metering';
import { EmbeddingError, type EmbeddingProvider } from '@quarry/models';
import { ObjectNotFoundError, type ObjectStorage } from '@quarry/storage';
import { chunkDocument } from '../chunking/chunker';
import { numericCounts, type DocumentEventInput, type DocumentEventPublisher } from '../events/document-events';
import { ParseError, TransientParseError, type DocumentParser, type ParsedDocument } from '../parsing/types';
import { readAll, readJson, writeJson } from './artifacts';
import { contentHash, type PlannedChunk } from './chunk-plan';
import { EmbeddingStore } from './embedding-store';
import { IndexWriter } from './index-writer';
import { MicroBatcher } from './micro-batcher';
import { PermanentStageError, StopPipeline } from './stage-error';
import { fetchSource } from './url-fetcher';

export interface EmbeddingModels {
  get(model: string): EmbeddingProvider;
  default(): EmbeddingProvider;
}

export interface PipelineDeps {
  db: Database;
  documents: DocumentsService;
  collections: CollectionsService;
  storage: ObjectStorage;
  parser: DocumentParser;
  models: EmbeddingModels;
  usage: UsageWriter;
  events: DocumentEventPublisher;
  settings: { embedBatchSize: number; embedBatchWaitMs: number; urlFetchTimeoutMs: number; allowPrivateHosts: boolean };
}

export interface RunRequest {
  tenantId: string;
  documentId: string;
  fromStage: Stage;
  reason: string;
}

export interface RunContext {
  /** No retry follows this attempt: a failure now fails the document. */
  finalAttempt: boolean;
  /** Called between stages (the worker also keeps the job's fairness slot fresh on a timer). */
  heartbeat: () => Promise<void>;
}

export type RunOutcome =
  | { status: 'indexed'; chunks: number; embedded: number; cached: number }
  | { status: 'unchanged' | 'skipped'; reason: string };

const statusOfStage: Record<Stage, string> = {
  fetch: 'fetching',
  parse: 'parsing',
  chunk: 'chunking',
  embed: 'embedding',
  index: 'indexing',
};

const uploadStages: Stage[] = ['parse', 'chunk', 'embed', 'index'];
const urlStages: Stage[] = ['fetch', ...uploadStages];

type StageDetails = Record<string, string | number | boolean | null>;

/** A stage that succeeded and whose run record is completed together with the next stage's start. */
interface FinishedStage {
  runId: string;
  details: StageDetails;
  finishedAt: Date;
}

interface StageState {
  scope: TenantScope;
  doc: DocumentModel;
  model: string;
  keepVersions: number;
  language: string;
  maxTokens: number;
  overlapTokens: number;
  reason: string;
  embedded: number;
  cached: number;
  chunks: number;
  /** The chunk plan as this run stored it, so later stages need not read it back; absent when resuming. */
  plan?: PlannedChunk[];
}

/**
 * Runs one document through fetch → parse → chunk → embed → index, from a given stage on. Each stage
 * persists its output (storage artifacts, embedding cache, chunks), records a stage run, and is safe to
 * repeat, so a retried or re-driven job resumes where the last one stopped and ends in the same state.
 */
export class IngestionPipeline {
  private readonly logger = new Logger(IngestionPipeline.name);
  private readonly store: EmbeddingStore;
  private readonly writer: IndexWriter;
  private readonly batchers = new Map<string, MicroBatcher<string, number[]>>();

  constructor(private readonly deps: PipelineDeps) {
    this.store = new EmbeddingStore(deps.db);
    this.writer = new IndexWriter(deps.db);
  }

  async run(request: RunRequest, context: RunContext): Promise<RunOutcome> {
    const scope = tenantScope(request.tenantId);
    // One transaction for both reads (nested tenant calls join it).
    const loaded = await this.deps.db.tenant(scope, async () => {
      const row = await this.deps.documents.row(scope, request.documentId);
      if (!row || row.supersededAt) return { row };
      return { row, settings: await this.deps.collections.settings(scope, row.collectionId) };
    });
    const { row: doc, settings } = loaded;
    if (!doc) return { status: 'skipped', reason: 'document deleted' };
    if (doc.supersededAt || !settings) return { status: 'skipped', reason: 'document superseded' };
    const model = settings.embeddingModel ?? this.deps.models.default().model;
    const state: StageState = {
      scope,
      doc,
      model,
      keepVersions: settings.keepVersions,
      language: settings.language,
      maxTokens: settings.chunking.maxTokens,
      overlapTokens: settings.chunking.overlapTokens,
      reason: request.reason,
      embedded: 0,
      cached: 0,
      chunks: 0,
    };
    const plan = doc.sourceType === 'url' ? urlStages : uploadStages;
    const start = Math.max(0, plan.indexOf(request.fromStage));
    let finished: FinishedStage | undefined;
    for (const stage of plan.slice(start)) {
      const runId = await this.openStage(scope, doc.id, stage, finished);
      finished = undefined;
      await this.emit(state, { phase: 'started', status: statusOfStage[stage], stage });
      try {
        const details = await this.runStage(stage, state, runId);
        if (details !== 'recorded') finished = { runId, details, finishedAt: new Date() };
        await this.emit(state, {
          phase: 'finished',
          status: statusOfStage[stage],
          stage,
          counts: details === 'recorded' ? { chunks: state.chunks } : numericCounts(details),
        });
      } catch (error) {
        if (error instanceof StopPipeline) {
          await this.deps.documents.completeStage(scope, runId, { stopped: error.reason });
          await this.restoreAfterStop(state);
          await this.emit(state, { phase: 'unchanged', status: doc.indexedAt ? 'indexed' : 'queued' });
          return { status: 'unchanged', reason: error.reason };
        }
        const failure = classify(error);
        const final = failure.permanent || context.finalAttempt;
        const reason = { code: failure.code, message: failure.message };
        if (final && stage === 'fetch' && state.reason === 'refresh') {
          // A source that stops answering keeps serving its last good version, marked stale.
          await this.deps.documents.failStage(scope, runId, { documentId: doc.id, stage, ...failure, final: false });
          await this.markStale(state);
          await this.emit(state, { phase: doc.indexedAt ? 'unchanged' : 'failed', status: doc.indexedAt ? 'indexed' : 'failed', stage, error: reason });
          throw error;
        }
        await this.deps.documents.failStage(scope, runId, { documentId: doc.id, stage, ...failure, final });
        await this.emit(state, { phase: final ? 'failed' : 'retrying', status: final ? 'failed' : statusOfStage[stage], stage, error: reason });
        if (final) this.logger.warn({ documentId: doc.id, tenantId: scope.tenantId, stage, code: failure.code }, 'Document failed');
        throw failure.permanent ? new PermanentStageError(failure.code, failure.message) : error;
      }
      await context.heartbeat();
    }
    if (finished) await this.deps.documents.completeStage(scope, finished.runId, finished.details, finished.finishedAt);
    await this.emit(state, {
      phase: 'indexed',
      status: 'indexed',
      counts: { chunks: state.chunks, embedded: state.embedded, cached: state.cached },
    });
    return { status: 'indexed', chunks: state.chunks, embedded: state.embedded, cached: state.cached };
  }

  /**
   * Starts a stage's run record; the previous stage's completion is written in the same transaction
   * (with the time it really finished), which saves a commit per stage.
   */
  private openStage(scope: TenantScope, documentId: string, stage: Stage, previous: FinishedStage | undefined): Promise<string> {
    if (!previous) return this.deps.documents.beginStage(scope, documentId, stage);
    return this.deps.db.tenant(scope, async () => {
      await this.deps.documents.completeStage(scope, previous.runId, previous.details, previous.finishedAt);
      return this.deps.documents.beginStage(scope, documentId, stage);
    });
  }

  private emit(state: StageState, event: Omit<DocumentEventInput, 'tenantId' | 'collectionId' | 'documentId'>): Promise<void> {
    return this.deps.events.publish({
      tenantId: state.scope.tenantId,
      collectionId: state.doc.collectionId,
      documentId: state.doc.id,
      ...event,
    });
  }

  /** A stage's details for its run record, or 'recorded' when the stage wrote the record itself. */
  private runStage(stage: Stage, state: StageState, runId: string): Promise<StageDetails | 'recorded'> {
    switch (stage) {
      case 'fetch':
        return this.fetch(state);
      case 'parse':
        return this.parse(state);
      case 'chunk':
        return this.chunk(state);
      case 'embed':
        return this.embed(state);
      case 'index':
        return this.index(state, runId);
    }
  }

  private async fetch(state: StageState): Promise<StageDetails> {
    const { scope, doc } = state;
    if (!doc.sourceUri) throw new PermanentStageError('URL_MISSING', 'This source has no URL');
    const outcome = await fetchSource(doc.sourceUri, {
      etag: doc.storageKey ? doc.etag : null,
      lastModified: doc.storageKey ? doc.lastModified : null,
      timeoutMs: this.deps.settings.urlFetchTimeoutMs,
      allowPrivateHosts: this.deps.settings.allowPrivateHosts,
    });
    if (!outcome.changed) throw new StopPipeline('not modified (304)');
    const key = `tenants/${scope.tenantId}/collections/${doc.collectionId}/sources/${doc.id}`;
    const stored = await this.deps.storage.put(key, outcome.body, {
      ...(outcome.contentType ? { contentType: outcome.contentType } : {}),
    });
    const unchanged = stored.sha256 === doc.contentHash && doc.status !== 'failed' && doc.indexedAt !== null;
    const mimeType = outcome.contentType?.split(';')[0]?.trim() ?? null;
    state.doc = await this.deps.db.tenant(scope, (tx) =>
      tx.document.update({
        where: { id: doc.id, tenantId: scope.tenantId },
        data: {
          storageKey: key,
          contentHash: stored.sha256,
          sizeBytes: BigInt(stored.sizeBytes),
          mimeType,
          etag: outcome.etag,
          lastModified: outcome.lastModified,
          lastCheckedAt: new Date(),
          stale: false,
        },
      }),
    );
    if (unchanged) throw new StopPipeline('content unchanged');
    await this.deps.usage.record(scope, {
      kind: 'storage.bytes',
      units: stored.sizeBytes,
      unit: 'bytes',
      metadata: { documentId: doc.id, source: 'url' },
    });
    return { bytes: stored.sizeBytes, contentType: mimeType };
  }

  private async parse(state: StageState): Promise<StageDetails> {
    const { scope, doc } = state;
    if (!doc.storageKey) throw new PermanentStageError('ORIGINAL_MISSING', 'The document has no stored original');
    const bytes = await readAll(await this.deps.storage.get(doc.storageKey));
    const parsed = await this.deps.parser.parse({
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      filename: doc.name,
      ...(doc.mimeType ? { mimeType: doc.mimeType } : {}),
    });
    if (parsed.elements.length === 0) throw new PermanentStageError('PARSE_EMPTY', 'The document contains no text');
    await writeJson(this.deps.storage, `${artifactPrefix(doc)}parsed.json`, parsed);
    const pages = parsed.pageCount ?? 1;
    await this.deps.db.tenant(scope, async (tx) => {
      await tx.document.update({
        where: { id: doc.id, tenantId: scope.tenantId },
        data: { pageCount: parsed.pageCount ?? null, ...(parsed.title ? { title: parsed.title.slice(0, 500) } : {}) },
      });
      await this.deps.usage.record(scope, {
        kind: 'ingest.parse',
        units: pages,
        unit: 'pages',
        metadata: { documentId: doc.id, bytes: bytes.byteLength },
      });
    });
    return { elements: parsed.elements.length, pages };
  }

  private async chunk(state: StageState): Promise<StageDetails> {
    const parsed = await readJson<ParsedDocument>(this.deps.storage, `${artifactPrefix(state.doc)}parsed.json`);
    const chunks: PlannedChunk[] = chunkDocument(parsed, {
      maxTokens: state.maxTokens,
      overlapTokens: state.overlapTokens,
    }).map((chunk) => ({
      ordinal: chunk.ordinal,
      text: chunk.text,
      contentHash: contentHash(chunk.text),
      tokenCount: chunk.tokenCount,
      headingPath: chunk.headingPath,
      pageStart: chunk.pageStart ?? null,
      pageEnd: chunk.pageEnd ?? null,
      charStart: chunk.charStart,
      charEnd: chunk.charEnd,
    }));
    if (chunks.length === 0) throw new PermanentStageError('PARSE_EMPTY', 'The document contains no text to index');
    await writeJson(this.deps.storage, `${artifactPrefix(state.doc)}chunks.json`, chunks);
    state.plan = chunks;
    return { chunks: chunks.length, maxTokens: state.maxTokens };
  }

  private async embed(state: StageState): Promise<StageDetails> {
    const { scope, model } = state;
    const chunks = await this.chunkPlan(state);
    const missing = await this.store.missing(scope, model, chunks.map((chunk) => chunk.contentHash));
    const todo = [...new Map(chunks.filter((chunk) => missing.has(chunk.contentHash)).map((chunk) => [chunk.contentHash, chunk])).values()];
    if (todo.length > 0) {
      const vectors = await this.batcher(model).submit(todo.map((chunk) => chunk.text));
      await this.deps.db.tenant(scope, async () => {
        await this.store.save(scope, model, todo.map((chunk, index) => ({ hash: chunk.contentHash, vector: vectors[index]! })));
        await this.deps.usage.record(scope, {
          kind: 'ingest.embed',
          model,
          units: todo.reduce((sum, chunk) => sum + chunk.tokenCount, 0),
          unit: 'tokens',
          metadata: { documentId: state.doc.id, chunks: todo.length },
        });
      });
    }
    state.embedded = todo.length;
    state.cached = chunks.length - todo.length;
    return { embedded: todo.length, cached: chunks.length - todo.length, model };
  }

  private async index(state: StageState, runId: string): Promise<'recorded'> {
    const chunks = await this.chunkPlan(state);
    // The stage run is completed in the same transaction that swaps the chunks and marks the document
    // indexed, so nobody sees an indexed document whose index run is still "running".
    // Retention runs in the same transaction too (one commit instead of two); storage is cleaned after it.
    const { result, retention } = await this.deps.db.tenant(state.scope, async () => {
      const replaced = await this.writer.replace(state.scope, state.doc.id, state.model, state.language, chunks);
      await this.deps.documents.completeStage(state.scope, runId, { chunks: replaced.chunks, supersededVersions: replaced.supersededVersions });
      const purged = await this.deps.documents.purgeOldVersions(state.scope, state.doc.lineageId, state.keepVersions);
      return { result: replaced, retention: purged };
    });
    state.chunks = result.chunks;
    for (const key of retention.orphanedKeys) {
      if (key.endsWith('/')) await this.deps.storage.deletePrefix(key);
      else await this.deps.storage.delete(key);
    }
    if (retention.purged > 0) {
      this.logger.log({ documentId: state.doc.id, tenantId: state.scope.tenantId, purged: retention.purged }, 'Purged old versions');
    }
    return 'recorded';
  }

  private async chunkPlan(state: StageState): Promise<PlannedChunk[]> {
    state.plan ??= await readJson<PlannedChunk[]>(this.deps.storage, `${artifactPrefix(state.doc)}chunks.json`);
    return state.plan;
  }

  private batcher(model: string): MicroBatcher<string, number[]> {
    let batcher = this.batchers.get(model);
    if (!batcher) {
      const provider = this.deps.models.get(model);
      batcher = new MicroBatcher((texts) => provider.embed(texts, { purpose: 'document' }), this.deps.settings.embedBatchSize, this.deps.settings.embedBatchWaitMs);
      this.batchers.set(model, batcher);
    }
    return batcher;
  }

  private async restoreAfterStop(state: StageState): Promise<void> {
    const { scope, doc } = state;
    await this.deps.db.tenant(scope, (tx) =>
      tx.document.update({
        where: { id: doc.id, tenantId: scope.tenantId },
        data: { status: doc.indexedAt ? 'indexed' : 'queued', stage: null, lastCheckedAt: new Date(), stale: false },
      }),
    );
  }

  private async markStale(state: StageState): Promise<void> {
    const { scope, doc } = state;
    await this.deps.db.tenant(scope, (tx) =>
      tx.document.update({
        where: { id: doc.id, tenantId: scope.tenantId },
        data: { status: doc.indexedAt ? 'indexed' : 'failed', stage: null, stale: true, lastCheckedAt: new Date() },
      }),
    );
  }
}

interface Failure {
  code: string;
  message: string;
  permanent: boolean;
}

function classify(error: unknown): Failure {
  if (error instanceof PermanentStageError) return { code: error.code, message: error.message, permanent: true };
  if (error instanceof ParseError) return { code: `PARSE_${error.reason.toUpperCase()}`, message: error.message, permanent: error.permanent };
  if (error instanceof TransientParseError) return { code: 'PARSER_UNAVAILABLE', message: error.message, permanent: false };
  if (error instanceof EmbeddingError) return { code: 'EMBEDDING_FAILED', message: error.message, permanent: !error.retryable };
  if (error instanceof ObjectNotFoundError) return { code: 'ORIGINAL_MISSING', message: 'The stored original is missing', permanent: true };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: message.slice(0, 500), permanent: false };
}
