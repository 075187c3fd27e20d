import { createHash } from 'node:crypto';
import type { TenantScope } from '@quarry/core';
import type { Database, RedisClient } from '@quarry/db';
import type { Citation } from './citations';

/** Everything an answer depends on besides the documents themselves. */
export interface AnswerCacheKey {
  question: string;
  readerTokens: readonly string[];
  collectionIds: readonly string[];
  retrievalConfig: unknown;
  model: string;
  templateVersion: string;
}

/** The state of a cited document when the answer was made; any change invalidates the answer. */
interface CitedDocumentState {
  id: string;
  acl: string[];
  contentHash: string | null;
  version: number;
}

export interface CachedAnswer {
  content: string;
  citations: Citation[];
  droppedCitations: number;
  model: string;
  /** Retrieval of the original answer, stored again in the new trace. */
  retrieved: unknown;
  createdAt: string;
}

interface StoredEntry extends CachedAnswer {
  documents: CitedDocumentState[];
  chunkIds: string[];
}

/** Lower case, single spaces, no trailing punctuation: "What is X?" and "what is  x" share an entry. */
export function normalizeQuestion(question: string): string {
  return question.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/[\s?!.]+$/u, '');
}

/** The reader's ACL tokens as one value: users who can read different documents never share an entry. */
export function aclFingerprint(tokens: readonly string[]): string {
  return sha256([...new Set(tokens)].sort().join('\n'));
}

export function answerCacheDigest(key: AnswerCacheKey): string {
  return sha256(
    JSON.stringify([
      normalizeQuestion(key.question),
      aclFingerprint(key.readerTokens),
      [...key.collectionIds].sort(),
      key.retrievalConfig,
      key.model,
      key.templateVersion,
    ]),
  );
}

/**
 * Answers per tenant in Redis. An entry remembers the state (content hash, version, ACL) of every document
 * it cited and is checked against Postgres on each hit: a changed, deleted, superseded or re-ACL'd document
 * invalidates it, whichever process changed it. Only answers with citations are cached.
 */
export class AnswerCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly db: Database,
    private readonly ttlSeconds: number,
  ) {}

  async get(scope: TenantScope, key: AnswerCacheKey): Promise<CachedAnswer | undefined> {
    const redisKey = this.key(scope, key);
    const raw = await this.redis.client.get(redisKey);
    if (!raw) return undefined;
    const entry = JSON.parse(raw) as StoredEntry;
    if (!(await this.stillValid(scope, entry))) {
      await this.redis.client.del(redisKey);
      return undefined;
    }
    return {
      content: entry.content,
      citations: entry.citations,
      droppedCitations: entry.droppedCitations,
      model: entry.model,
      retrieved: entry.retrieved,
      createdAt: entry.createdAt,
    };
  }

  async put(scope: TenantScope, key: AnswerCacheKey, answer: Omit<CachedAnswer, 'createdAt'>): Promise<void> {
    if (answer.citations.length === 0) return;
    const documentIds = [...new Set(answer.citations.map((citation) => citation.documentId))];
    const documents = await this.documentStates(scope, documentIds);
    if (documents.length !== documentIds.length) return;
    const entry: StoredEntry = {
      ...answer,
      createdAt: new Date().toISOString(),
      documents,
      chunkIds: [...new Set(answer.citations.map((citation) => citation.chunkId))],
    };
    await this.redis.client.set(this.key(scope, key), JSON.stringify(entry), 'EX', this.ttlSeconds);
  }

  private key(scope: TenantScope, key: AnswerCacheKey): string {
    return this.redis.key('chat', 'answer', scope.tenantId, answerCacheDigest(key));
  }

  private async stillValid(scope: TenantScope, entry: StoredEntry): Promise<boolean> {
    const current = new Map((await this.documentStates(scope, entry.documents.map((doc) => doc.id))).map((doc) => [doc.id, doc]));
    const unchanged = entry.documents.every((before) => {
      const now = current.get(before.id);
      return now !== undefined && now.contentHash === before.contentHash && now.version === before.version && now.acl.join('\n') === before.acl.join('\n');
    });
    if (!unchanged) return false;
    const [row] = await this.db.tenant(scope, (tx) =>
      tx.$queryRaw<{ present: bigint }[]>`
        SELECT count(*) AS present FROM chunks
        WHERE tenant_id = ${scope.tenantId}::uuid AND id = ANY(${entry.chunkIds}::uuid[])`,
    );
    return Number(row?.present ?? 0) === entry.chunkIds.length;
  }

  /** Current, indexed documents only: a superseded or failed one counts as gone. */
  private async documentStates(scope: TenantScope, ids: string[]): Promise<CitedDocumentState[]> {
    const rows = await this.db.tenant(scope, (tx) =>
      tx.document.findMany({
        where: { tenantId: scope.tenantId, id: { in: ids }, supersededAt: null, status: 'indexed' },
        select: { id: true, acl: true, contentHash: true, version: true },
      }),
    );
    return rows.map((row) => ({ id: row.id, acl: [...row.acl].sort(), contentHash: row.contentHash, version: row.version }));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
