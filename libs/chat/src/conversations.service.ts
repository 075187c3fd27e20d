import { AppError, decodeCursor, toPage, type Page, type TenantScope } from '@quarry/core';
import type { AnswerTraceModel, ConversationModel, Database, MessageModel } from '@quarry/db';
import type { Citation } from './citations';
import type { MessageStatus } from './chat-events';

export interface ConversationView {
  id: string;
  title: string;
  collectionIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface MessageView {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  citations: Citation[];
  status: MessageStatus;
  createdAt: string;
}

export interface TraceView {
  id: string;
  messageId: string;
  conversationId: string;
  question: string;
  standaloneQuery: string;
  rewrite: string;
  templateVersion: string;
  provider: string | null;
  model: string | null;
  params: unknown;
  retrievalConfig: unknown;
  retrieved: unknown;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  costUsd: number;
  droppedCitations: number;
  cacheHit: boolean;
  finishReason: string | null;
  errorCode: string | null;
  feedback: { rating: 'up' | 'down'; comment: string | null; at: string } | null;
  createdAt: string;
}

/**
 * Conversations belong to the user who started them. Every read and write filters by that user as well as
 * the tenant, so another user's conversation answers exactly like one that does not exist (404).
 */
export class ConversationsService {
  constructor(private readonly db: Database) {}

  async list(scope: TenantScope, userId: string, query: { limit: number; cursor?: string }): Promise<Page<ConversationView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.conversation.findMany({
        where: { tenantId: scope.tenantId, userId, ...(after ? { id: { lt: after } } : {}) },
        orderBy: { id: 'desc' },
        take: query.limit + 1,
      }),
    );
    return toPage(rows, query.limit, toConversationView);
  }

  async get(scope: TenantScope, userId: string, id: string): Promise<ConversationView & { messages: MessageView[] }> {
    return this.db.tenant(scope, async (tx) => {
      const conversation = await tx.conversation.findFirst({ where: { tenantId: scope.tenantId, userId, id } });
      if (!conversation) throw AppError.notFound('Conversation');
      const messages = await tx.message.findMany({ where: { tenantId: scope.tenantId, conversationId: id }, orderBy: { id: 'asc' } });
      return { ...toConversationView(conversation), messages: messages.map(toMessageView) };
    });
  }

  async remove(scope: TenantScope, userId: string, id: string): Promise<void> {
    const { count } = await this.db.tenant(scope, (tx) => tx.conversation.deleteMany({ where: { tenantId: scope.tenantId, userId, id } }));
    if (count === 0) throw AppError.notFound('Conversation');
  }

  async trace(scope: TenantScope, userId: string, messageId: string): Promise<TraceView> {
    const row = await this.db.tenant(scope, (tx) => tx.answerTrace.findFirst({ where: { tenantId: scope.tenantId, userId, messageId } }));
    if (!row) throw AppError.notFound('Message');
    return toTraceView(row);
  }

  async feedback(scope: TenantScope, userId: string, messageId: string, feedback: { rating: 'up' | 'down'; comment?: string }): Promise<TraceView> {
    return this.db.tenant(scope, async (tx) => {
      const { count } = await tx.answerTrace.updateMany({
        where: { tenantId: scope.tenantId, userId, messageId },
        data: { feedbackRating: feedback.rating === 'up' ? 1 : -1, feedbackComment: feedback.comment ?? null, feedbackAt: new Date() },
      });
      if (count === 0) throw AppError.notFound('Message');
      return this.trace(scope, userId, messageId);
    });
  }
}

export function toConversationView(row: ConversationModel): ConversationView {
  return { id: row.id, title: row.title, collectionIds: row.collectionIds, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

export function toMessageView(row: MessageModel): MessageView {
  return {
    id: row.id,
    role: row.role as MessageView['role'],
    content: row.content,
    citations: row.citations as unknown as Citation[],
    status: row.status as MessageStatus,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toTraceView(row: AnswerTraceModel): TraceView {
  return {
    id: row.id,
    messageId: row.messageId,
    conversationId: row.conversationId,
    question: row.question,
    standaloneQuery: row.standaloneQuery,
    rewrite: row.rewrite,
    templateVersion: row.templateVersion,
    provider: row.provider,
    model: row.model,
    params: row.params,
    retrievalConfig: row.retrievalConfig,
    retrieved: row.retrieved,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    latencyMs: row.latencyMs,
    timeToFirstTokenMs: row.timeToFirstTokenMs,
    costUsd: Number(row.costUsd),
    droppedCitations: row.droppedCitations,
    cacheHit: row.cacheHit,
    finishReason: row.finishReason,
    errorCode: row.errorCode,
    feedback:
      row.feedbackRating === null || !row.feedbackAt
        ? null
        : { rating: row.feedbackRating > 0 ? 'up' : 'down', comment: row.feedbackComment, at: row.feedbackAt.toISOString() },
    createdAt: row.createdAt.toISOString(),
  };
}
