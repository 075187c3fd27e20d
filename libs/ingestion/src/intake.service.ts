import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, CONFIG, ErrorCode, type Principal } from '@quarry/core';
import { CollectionsService, DocumentsService, type DocumentView } from '@quarry/documents';
import { UsageWriter } from '@quarry/metering';
import { OBJECT_STORAGE, StorageLimitError, type ObjectStorage } from '@quarry/storage';
import type { IngestionConfig } from './config';
import { DocumentEventPublisher } from './events/document-events';
import { IngestionQueue } from './queue/ingestion-queue';

export interface UploadedFile {
  filename: string;
  mimeType: string | null;
  stream: Readable;
}

export interface IntakeResult {
  document: DocumentView;
  duplicate: boolean;
}

/**
 * Intake: originals are streamed to storage, registered (same bytes → the existing document; same name
 * with new bytes → a new version) and queued. Nothing is half-written: a failed or refused upload
 * leaves no object and no document behind.
 */
@Injectable()
export class IntakeService {
  constructor(
    @Inject(CONFIG) private readonly config: IngestionConfig,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly documents: DocumentsService,
    private readonly collections: CollectionsService,
    private readonly queue: IngestionQueue,
    private readonly usage: UsageWriter,
    private readonly events: DocumentEventPublisher,
  ) {}

  async upload(principal: Principal, collectionId: string, file: UploadedFile): Promise<IntakeResult> {
    const key = `tenants/${principal.tenantId}/collections/${collectionId}/originals/${randomUUID()}`;
    let stored: { sha256: string; sizeBytes: number };
    try {
      stored = await this.storage.put(key, file.stream, {
        maxBytes: this.config.UPLOAD_MAX_BYTES,
        ...(file.mimeType ? { contentType: file.mimeType } : {}),
      });
    } catch (error) {
      if (error instanceof StorageLimitError) {
        throw new AppError(413, ErrorCode.PayloadTooLarge, `${file.filename} is larger than ${this.config.UPLOAD_MAX_BYTES} bytes`, {
          file: file.filename,
          maxBytes: this.config.UPLOAD_MAX_BYTES,
        });
      }
      throw error;
    }
    if (stored.sizeBytes === 0) {
      await this.storage.delete(key);
      throw new AppError(400, ErrorCode.ValidationFailed, `${file.filename} is empty`, { fields: [{ path: 'file', message: 'is empty' }] });
    }
    try {
      const result = await this.documents.register(principal, collectionId, {
        name: file.filename,
        mimeType: file.mimeType,
        contentHash: stored.sha256,
        sizeBytes: stored.sizeBytes,
        storageKey: key,
        sourceType: 'upload',
      });
      if (result.duplicate) {
        await this.storage.delete(key);
      } else {
        await this.usage.record(principal, {
          kind: 'storage.bytes',
          units: stored.sizeBytes,
          unit: 'bytes',
          metadata: { documentId: result.document.id, source: 'upload' },
        });
        await this.queue.enqueue(principal, result.document.id, 'parse', 'upload');
        await this.queued(principal, collectionId, result.document.id);
      }
      return result;
    } catch (error) {
      await this.storage.delete(key).catch(() => undefined);
      throw error;
    }
  }

  async registerUrl(principal: Principal, collectionId: string, source: { url: string; refreshIntervalMinutes?: number }): Promise<IntakeResult> {
    const url = new URL(source.url);
    const result = await this.documents.register(principal, collectionId, {
      name: url.toString(),
      mimeType: null,
      contentHash: null,
      sizeBytes: 0,
      storageKey: null,
      sourceType: 'url',
      sourceUri: url.toString(),
      ...(source.refreshIntervalMinutes ? { refreshIntervalMinutes: source.refreshIntervalMinutes } : {}),
    });
    if (!result.duplicate) {
      await this.queue.enqueue(principal, result.document.id, 'fetch', 'upload');
      await this.queued(principal, collectionId, result.document.id);
    }
    return result;
  }

  async retry(principal: Principal, documentId: string): Promise<DocumentView> {
    const { document, fromStage } = await this.documents.prepareRetry(principal, documentId);
    await this.queue.enqueue(principal, document.id, fromStage, 'retry');
    await this.queued(principal, document.collectionId, document.id);
    return document;
  }

  /** Re-fetches a URL source now (conditional GET: an unchanged source costs one 304). */
  async refresh(principal: Principal, documentId: string): Promise<DocumentView> {
    const document = await this.documents.get(principal, documentId);
    if (document.sourceType !== 'url') throw AppError.conflict('Only URL sources can be refreshed');
    await this.queue.enqueue(principal, document.id, 'fetch', 'refresh');
    return document;
  }

  /** Re-runs every current document of a collection from `fromStage` (chunk after a settings change, embed after a model change). */
  async reindex(principal: Principal, collectionId: string, fromStage: 'parse' | 'chunk' | 'embed' | 'index', reason: 'reindex' | 'model_change'): Promise<number> {
    await this.collections.get(principal, collectionId);
    const ids = await this.documents.currentIds(principal, collectionId);
    // Old chunks keep serving until each document's index stage swaps in the new ones.
    for (const id of ids) {
      await this.queue.enqueue(principal, id, fromStage, reason);
      await this.queued(principal, collectionId, id);
    }
    return ids.length;
  }

  async removeCollection(principal: Principal, collectionId: string): Promise<void> {
    await this.collections.remove(principal, collectionId);
    // Rows went with the collection (cascade); its originals and artifacts share one prefix.
    await this.storage.deletePrefix(`tenants/${principal.tenantId}/collections/${collectionId}/`);
  }

  async remove(principal: Principal, documentId: string): Promise<void> {
    const { orphanedKeys, collectionId } = await this.documents.remove(principal, documentId);
    for (const key of orphanedKeys) {
      if (key.endsWith('/')) await this.storage.deletePrefix(key);
      else await this.storage.delete(key);
    }
    await this.events.publish({ tenantId: principal.tenantId, collectionId, documentId, phase: 'deleted', status: 'deleted' });
  }

  private queued(principal: Principal, collectionId: string, documentId: string): Promise<void> {
    return this.events.publish({ tenantId: principal.tenantId, collectionId, documentId, phase: 'queued', status: 'queued' });
  }
}
