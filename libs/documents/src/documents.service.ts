import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, decodeCursor, toPage, type Page, type Principal, type TenantScope } from '@quarry/core';
import { v7 as uuidv7 } from 'uuid';
import { Database, isUniqueViolation, type DocumentModel, type DocumentStageRunModel, type TenantTx } from '@quarry/db';

export const stages = ['fetch', 'parse', 'chunk', 'embed', 'index'] as const;
export type Stage = (typeof stages)[number];

/** queued → fetching → parsing → chunking → embedding → indexing → indexed; or failed; or superseded. */
export const documentStatuses = [
  'queued', 'fetching', 'parsing', 'chunking', 'embedding', 'indexing', 'indexed', 'failed', 'superseded',
] as const;
export type DocumentStatus = (typeof documentStatuses)[number];

const statusOfStage: Record<Stage, DocumentStatus> = {
  fetch: 'fetching',
  parse: 'parsing',
  chunk: 'chunking',
  embed: 'embedding',
  index: 'indexing',
};

export interface StageRunView {
  stage: string;
  status: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  details: unknown;
}

export interface DocumentView {
  id: string;
  collectionId: string;
  name: string;
  title: string;
  sourceType: string;
  sourceUri: string | null;
  mimeType: string | null;
  sizeBytes: number;
  contentHash: string | null;
  version: number;
  lineageId: string;
  status: DocumentStatus;
  stage: string | null;
  error: { stage: string | null; code: string | null; message: string } | null;
  pageCount: number | null;
  chunkCount: number;
  tokenCount: number;
  embeddingModel: string | null;
  indexedAt: string | null;
  supersededAt: string | null;
  stale: boolean;
  createdAt: string;
  updatedAt: string;
  stages?: StageRunView[];
}

/** At most this many in-flight documents are listed in a progress snapshot (the counts cover all). */
export const progressInFlightLimit = 500;

export interface CollectionProgressView {
  collectionId: string;
  counts: Partial<Record<DocumentStatus, number>>;
  inFlight: { documentId: string; status: DocumentStatus; stage: string | null }[];
}

export interface NewOriginal {
  name: string;
  title?: string;
  mimeType: string | null;
  /** Null for a URL source until its first fetch. */
  contentHash: string | null;
  sizeBytes: number;
  storageKey: string | null;
  sourceType: 'upload' | 'url';
  sourceUri?: string;
  refreshIntervalMinutes?: number;
}

export interface DocumentListQuery {
  limit: number;
  cursor?: string;
  collectionId?: string;
  status?: DocumentStatus;
  /** Only documents these reader tokens may read; omit for administrators. */
  readerTokens?: string[];
}

@Injectable()
export class DocumentsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * Registers an original already written to storage. Same bytes in the same collection return the
   * existing document; the same name with new bytes becomes the next version of that document.
   */
  async register(principal: Principal, collectionId: string, original: NewOriginal): Promise<{ document: DocumentView; duplicate: boolean }> {
    try {
      return await this.db.tenant(principal, async (tx) => {
        const collection = await tx.collection.findFirst({ where: { tenantId: principal.tenantId, id: collectionId } });
        if (!collection) throw AppError.notFound('Collection');
        const existing =
          original.sourceType === 'url'
            ? await tx.document.findFirst({
                where: { tenantId: principal.tenantId, collectionId, sourceUri: original.sourceUri ?? '', supersededAt: null },
              })
            : await this.findCurrentByHash(tx, principal, collectionId, original.contentHash ?? '');
        if (existing) return { document: toView(existing), duplicate: true };

        const previous = await tx.document.findFirst({
          where: { tenantId: principal.tenantId, collectionId, name: original.name },
          orderBy: { version: 'desc' },
        });
        const id = uuidv7();
        const created = await tx.document.create({
          data: {
            id,
            tenantId: principal.tenantId,
            collectionId,
            name: original.name,
            title: original.title ?? original.name,
            // A first version is its own lineage.
            lineageId: previous?.lineageId ?? id,
            version: (previous?.version ?? 0) + 1,
            sourceType: original.sourceType,
            sourceUri: original.sourceUri ?? null,
            mimeType: original.mimeType,
            contentHash: original.contentHash,
            sizeBytes: BigInt(original.sizeBytes),
            storageKey: original.storageKey,
            refreshIntervalMinutes: original.refreshIntervalMinutes ?? null,
            status: 'queued',
          },
        });
        // A new document starts with its collection's readers.
        await tx.$executeRaw`UPDATE documents SET acl = quarry_document_acl(tenant_id, id) WHERE tenant_id = ${principal.tenantId}::uuid AND id = ${id}::uuid`;
        await this.audit.record(principal, {
          action: 'document.create',
          outcome: 'success',
          target: { type: 'document', id: created.id },
          metadata: { collectionId, name: created.name, version: created.version, sizeBytes: original.sizeBytes },
        });
        return { document: toView(created), duplicate: false };
      });
    } catch (error) {
      // Two uploads of the same bytes raced: the other one won, answer with its document.
      if (isUniqueViolation(error)) {
        const winner = await this.db.tenant(principal, (tx) =>
          this.findCurrentByHash(tx, principal, collectionId, original.contentHash ?? ''),
        );
        if (winner) return { document: toView(winner), duplicate: true };
      }
      throw error;
    }
  }

  /** `readerTokens`: only documents these tokens may read (others are "not found"); omit for administrators. */
  async get(scope: TenantScope, id: string, withStages = false, readerTokens?: string[]): Promise<DocumentView> {
    return this.db.tenant(scope, async (tx) => {
      const row = await tx.document.findFirst({
        where: { tenantId: scope.tenantId, id, ...(readerTokens ? { acl: { hasSome: readerTokens } } : {}) },
      });
      if (!row) throw AppError.notFound('Document');
      const view = toView(row);
      if (withStages) {
        const runs = await tx.documentStageRun.findMany({
          where: { tenantId: scope.tenantId, documentId: id },
          orderBy: { startedAt: 'asc' },
        });
        view.stages = runs.map(toStageView);
      }
      return view;
    });
  }

  /** The raw row, for the pipeline. */
  async row(scope: TenantScope, id: string): Promise<DocumentModel | null> {
    return this.db.tenant(scope, (tx) => tx.document.findFirst({ where: { tenantId: scope.tenantId, id } }));
  }

  async list(scope: TenantScope, query: DocumentListQuery): Promise<Page<DocumentView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.document.findMany({
        where: {
          tenantId: scope.tenantId,
          ...(query.collectionId ? { collectionId: query.collectionId } : {}),
          ...(query.status ? { status: query.status } : { supersededAt: null }),
          ...(query.readerTokens ? { acl: { hasSome: query.readerTokens } } : {}),
          ...(after ? { id: { gt: after } } : {}),
        },
        orderBy: { id: 'asc' },
        take: query.limit + 1,
      }),
    );
    return toPage(rows, query.limit, toView);
  }

  /** Ids of a collection's current documents, for bulk re-index. */
  async currentIds(scope: TenantScope, collectionId: string): Promise<string[]> {
    const rows = await this.db.tenant(scope, (tx) =>
      tx.document.findMany({
        where: { tenantId: scope.tenantId, collectionId, supersededAt: null },
        select: { id: true },
        orderBy: { id: 'asc' },
      }),
    );
    return rows.map((row) => row.id);
  }

  /**
   * Deletes a document with its chunks and stage history, and the cached embeddings no other chunk of the
   * tenant still uses. Returns the storage keys that nothing references any more, for the caller to delete.
   */
  async remove(principal: Principal, id: string): Promise<{ orphanedKeys: string[]; collectionId: string }> {
    return this.db.tenant(principal, async (tx) => {
      const doc = await tx.document.findFirst({ where: { tenantId: principal.tenantId, id } });
      if (!doc) throw AppError.notFound('Document');
      const hashes = await tx.chunk.findMany({
        where: { tenantId: principal.tenantId, documentId: id },
        select: { contentHash: true },
        distinct: ['contentHash'],
      });
      await tx.document.delete({ where: { id, tenantId: principal.tenantId } });
      if (hashes.length > 0) {
        await tx.$executeRaw`
          DELETE FROM embedding_cache ec
          WHERE ec.tenant_id = ${principal.tenantId}::uuid
            AND ec.content_hash = ANY(${hashes.map((row) => row.contentHash)}::text[])
            AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.tenant_id = ec.tenant_id AND c.content_hash = ec.content_hash)`;
      }
      const stillUsed = doc.storageKey
        ? await tx.document.count({ where: { tenantId: principal.tenantId, storageKey: doc.storageKey } })
        : 0;
      await this.audit.record(principal, {
        action: 'document.delete',
        outcome: 'success',
        target: { type: 'document', id },
        metadata: { name: doc.name, version: doc.version },
      });
      return { orphanedKeys: [...(doc.storageKey && stillUsed === 0 ? [doc.storageKey] : []), artifactPrefix(doc)], collectionId: doc.collectionId };
    });
  }

  /**
   * Retention: keeps the `keep` most recent superseded versions of a lineage and deletes older ones (rows,
   * stage history). Returns the storage keys nothing references any more, for the caller to delete.
   */
  async purgeOldVersions(scope: TenantScope, lineageId: string, keep: number): Promise<{ purged: number; orphanedKeys: string[] }> {
    return this.db.tenant(scope, async (tx) => {
      const superseded = await tx.document.findMany({
        where: { tenantId: scope.tenantId, lineageId, supersededAt: { not: null } },
        orderBy: { version: 'desc' },
        skip: keep,
      });
      if (superseded.length === 0) return { purged: 0, orphanedKeys: [] };
      await tx.document.deleteMany({ where: { tenantId: scope.tenantId, id: { in: superseded.map((doc) => doc.id) } } });
      const keys: string[] = [];
      for (const doc of superseded) {
        keys.push(artifactPrefix(doc));
        if (doc.storageKey && (await tx.document.count({ where: { tenantId: scope.tenantId, storageKey: doc.storageKey } })) === 0) {
          keys.push(doc.storageKey);
        }
      }
      return { purged: superseded.length, orphanedKeys: keys };
    });
  }

  /** Puts a failed document back in the queue; returns the stage to resume from. */
  async prepareRetry(principal: Principal, id: string): Promise<{ document: DocumentView; fromStage: Stage }> {
    return this.db.tenant(principal, async (tx) => {
      const doc = await tx.document.findFirst({ where: { tenantId: principal.tenantId, id } });
      if (!doc) throw AppError.notFound('Document');
      if (doc.status !== 'failed') {
        throw AppError.conflict(`Only failed documents can be retried; this one is ${doc.status}`);
      }
      const fromStage = (stages as readonly string[]).includes(doc.failedStage ?? '') ? (doc.failedStage as Stage) : 'parse';
      const updated = await tx.document.update({
        where: { id, tenantId: principal.tenantId },
        data: { status: 'queued', errorCode: null, errorMessage: null },
      });
      await this.audit.record(principal, {
        action: 'document.retry',
        outcome: 'success',
        target: { type: 'document', id },
        metadata: { fromStage },
      });
      return { document: toView(updated), fromStage };
    });
  }

  /** Marks documents queued again (bulk re-index, model change). */
  async requeue(scope: TenantScope, ids: string[]): Promise<void> {
    await this.db.tenant(scope, (tx) =>
      tx.document.updateMany({
        where: { tenantId: scope.tenantId, id: { in: ids }, supersededAt: null },
        data: { status: 'queued', errorCode: null, errorMessage: null, failedStage: null },
      }),
    );
  }

  /**
   * A collection's progress: current documents per status, and the ones still in flight (ids, status and
   * stage only, so it reveals no names beyond the listing's). Unknown collection → 404.
   */
  async progress(scope: TenantScope, collectionId: string): Promise<CollectionProgressView> {
    return this.db.tenant(scope, async (tx) => {
      const collection = await tx.collection.findFirst({ where: { tenantId: scope.tenantId, id: collectionId }, select: { id: true } });
      if (!collection) throw AppError.notFound('Collection');
      const current = { tenantId: scope.tenantId, collectionId, supersededAt: null };
      const grouped = await tx.document.groupBy({ by: ['status'], where: current, _count: { _all: true } });
      const inFlight = await tx.document.findMany({
        where: { ...current, status: { notIn: ['indexed', 'failed', 'superseded'] } },
        orderBy: { createdAt: 'asc' },
        take: progressInFlightLimit,
        select: { id: true, status: true, stage: true },
      });
      return {
        collectionId,
        counts: Object.fromEntries(grouped.map((row) => [row.status, row._count._all])),
        inFlight: inFlight.map((doc) => ({ documentId: doc.id, status: doc.status as DocumentStatus, stage: doc.stage })),
      };
    });
  }

  // ---- stage bookkeeping, used by the ingestion pipeline ----

  /**
   * Records the start of a stage. A run still marked running belongs to a worker that died mid-stage
   * (killed, out of memory): it is closed as interrupted, so the history shows what happened. The attempt
   * number counts this stage's runs for the document, including interrupted ones.
   */
  async beginStage(scope: TenantScope, documentId: string, stage: Stage): Promise<string> {
    return this.db.tenant(scope, async (tx) => {
      const now = new Date();
      await tx.documentStageRun.updateMany({
        where: { tenantId: scope.tenantId, documentId, status: 'running' },
        data: { status: 'interrupted', finishedAt: now, error: 'WORKER_LOST: the worker stopped before the stage finished' },
      });
      await tx.document.update({
        where: { id: documentId, tenantId: scope.tenantId },
        data: { status: statusOfStage[stage], stage, errorCode: null, errorMessage: null, failedStage: null },
      });
      const previous = await tx.documentStageRun.count({ where: { tenantId: scope.tenantId, documentId, stage } });
      const run = await tx.documentStageRun.create({
        data: { tenantId: scope.tenantId, documentId, stage, status: 'running', attempt: previous + 1 },
      });
      return run.id;
    });
  }

  async completeStage(
    scope: TenantScope,
    runId: string,
    details: Record<string, string | number | boolean | null> = {},
    finishedAt = new Date(),
  ): Promise<void> {
    await this.db.tenant(scope, async (tx) => {
      const run = await tx.documentStageRun.findFirst({ where: { tenantId: scope.tenantId, id: runId } });
      if (!run) return;
      await tx.documentStageRun.update({
        where: { id: runId },
        data: { status: 'succeeded', finishedAt, durationMs: finishedAt.getTime() - run.startedAt.getTime(), details },
      });
    });
  }

  /** Records a failed attempt; when `final`, the document itself is failed with the reason. */
  async failStage(
    scope: TenantScope,
    runId: string,
    failure: { documentId: string; stage: Stage; code: string; message: string; final: boolean },
  ): Promise<void> {
    await this.db.tenant(scope, async (tx) => {
      const run = await tx.documentStageRun.findFirst({ where: { tenantId: scope.tenantId, id: runId } });
      const finishedAt = new Date();
      if (run) {
        await tx.documentStageRun.update({
          where: { id: runId },
          data: {
            status: 'failed',
            finishedAt,
            durationMs: finishedAt.getTime() - run.startedAt.getTime(),
            error: `${failure.code}: ${failure.message}`.slice(0, 2000),
          },
        });
      }
      if (failure.final) {
        await tx.document.updateMany({
          where: { id: failure.documentId, tenantId: scope.tenantId },
          data: {
            status: 'failed',
            failedStage: failure.stage,
            errorCode: failure.code,
            errorMessage: failure.message.slice(0, 2000),
          },
        });
      }
    });
  }

  private findCurrentByHash(tx: TenantTx, scope: TenantScope, collectionId: string, contentHash: string) {
    return tx.document.findFirst({
      where: { tenantId: scope.tenantId, collectionId, contentHash, supersededAt: null },
    });
  }
}

/** Where the pipeline keeps a document's intermediate artifacts (parsed elements, chunk plan). */
export function artifactPrefix(doc: { tenantId: string; collectionId: string; id: string }): string {
  return `tenants/${doc.tenantId}/collections/${doc.collectionId}/artifacts/${doc.id}/`;
}

export function toView(row: DocumentModel): DocumentView {
  return {
    id: row.id,
    collectionId: row.collectionId,
    name: row.name,
    title: row.title,
    sourceType: row.sourceType,
    sourceUri: row.sourceUri,
    mimeType: row.mimeType,
    sizeBytes: Number(row.sizeBytes),
    contentHash: row.contentHash,
    version: row.version,
    lineageId: row.lineageId,
    status: row.status as DocumentStatus,
    stage: row.stage,
    error: row.status === 'failed' ? { stage: row.failedStage, code: row.errorCode, message: row.errorMessage ?? 'failed' } : null,
    pageCount: row.pageCount,
    chunkCount: row.chunkCount,
    tokenCount: row.tokenCount,
    embeddingModel: row.embeddingModel,
    indexedAt: row.indexedAt?.toISOString() ?? null,
    supersededAt: row.supersededAt?.toISOString() ?? null,
    stale: row.stale,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toStageView(run: DocumentStageRunModel): StageRunView {
  return {
    stage: run.stage,
    status: run.status,
    attempt: run.attempt,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    error: run.error,
    details: run.details,
  };
}
