import { Injectable, Logger } from '@nestjs/common';
import { RedisClient } from '@quarry/db';

/** What happened to a document; `started`/`finished` belong to one stage, the rest to the document. */
export type DocumentEventPhase = 'queued' | 'started' | 'finished' | 'retrying' | 'failed' | 'indexed' | 'unchanged' | 'deleted';

/**
 * A document's status change, as the live progress stream carries it. Ids, status, stage, counts and an
 * error code/message only: never document text.
 */
export interface DocumentEvent {
  tenantId: string;
  collectionId: string;
  documentId: string;
  phase: DocumentEventPhase;
  status: string;
  stage: string | null;
  error: { code: string; message: string } | null;
  counts: Record<string, number>;
  at: string;
}

export type DocumentEventInput = Omit<DocumentEvent, 'at' | 'error' | 'counts' | 'stage'> &
  Partial<Pick<DocumentEvent, 'error' | 'counts' | 'stage'>>;

/** One pub/sub channel per tenant, under the configured Redis prefix. */
export function documentEventsChannel(prefix: string, tenantId: string): string {
  return `${prefix}:events:tenant:${tenantId}`;
}

/** Keeps only numeric stage details (element, chunk, embedding counts) for an event. */
export function numericCounts(details: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(details).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/**
 * Publishes document events on Redis pub/sub. Best effort: progress display must never fail or slow
 * ingestion, so a publish error is logged and dropped (a reconnecting client gets a fresh snapshot).
 */
@Injectable()
export class DocumentEventPublisher {
  private readonly logger = new Logger(DocumentEventPublisher.name);

  constructor(private readonly redis: RedisClient) {}

  async publish(input: DocumentEventInput): Promise<void> {
    const event: DocumentEvent = {
      stage: null,
      error: null,
      counts: {},
      ...input,
      at: new Date().toISOString(),
    };
    try {
      await this.redis.client.publish(documentEventsChannel(this.redis.prefix, event.tenantId), JSON.stringify(event));
    } catch (error) {
      this.logger.warn({ documentId: event.documentId, tenantId: event.tenantId, err: String(error) }, 'Document event not published');
    }
  }
}
