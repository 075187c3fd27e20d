import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import { Prisma, type Database } from '@quarry/db';
import type { SearchMode } from '@quarry/retrieval';
import { v7 as uuidv7 } from 'uuid';
import { AnswerPipeline, type AnswerOutcome, type ChatAccess } from './answer-pipeline';
import type { ChatEvent, DoneEvent } from './chat-events';
import type { ChatSettings } from './config';
import { promptSkeleton, TEMPLATE_VERSION } from './prompt-template';
import type { ChatModels, ChatModelSet, ModelBudget } from './ports';
import { QueryRewriter, type Turn } from './query-rewriter';

export interface ChatRequest {
  message: string;
  /** Continue this conversation (it must be the asker's); omitted: start a new one. */
  conversationId?: string;
  mode: SearchMode;
}

/** A question accepted for answering: checks passed, the user's message stored, the answer not yet made. */
export interface ChatRun {
  conversationId: string;
  userMessageId: string;
  messageId: string;
  /** Yields the answer's events and ends with `done`; aborting `signal` stops generation and still stores and bills what was made. */
  events(signal: AbortSignal): AsyncGenerator<ChatEvent>;
}

/** Tokens left for passages must hold at least one reasonable passage, or the question is too long to answer. */
const MIN_PASSAGE_TOKENS = 128;
const HISTORY_MESSAGES = 6;

/**
 * Grounded chat. `start` does everything that can fail with a 4xx (ownership, message size against the
 * model's window, budget) before a stream opens; `events` then rewrites follow-ups, answers and stores the
 * assistant message with its trace.
 */
export class ChatService {
  private readonly rewriter: QueryRewriter;

  constructor(
    private readonly db: Database,
    private readonly models: ChatModels,
    private readonly budget: ModelBudget,
    private readonly pipeline: AnswerPipeline,
    private readonly settings: ChatSettings,
  ) {
    this.rewriter = new QueryRewriter(budget, settings.rewriteTimeoutMs);
  }

  async start(scope: TenantScope, access: ChatAccess, request: ChatRequest): Promise<ChatRun> {
    const startedAt = performance.now();
    if (request.conversationId) await this.requireOwnConversation(scope, access.userId, request.conversationId);
    const models = await this.models.forTenant(scope);
    const useFallback = await this.checkBudgetAndSize(scope, access, models, request.message);
    const model = useFallback ? models.fallback! : models.primary;

    const { conversationId, history, userMessageId } = await this.db.tenant(scope, async (tx) => {
      let id = request.conversationId;
      let turns: Turn[] = [];
      if (id) {
        const existing = await tx.conversation.findFirst({ where: { tenantId: scope.tenantId, userId: access.userId, id } });
        if (!existing) throw AppError.notFound('Conversation');
        const recent = await tx.message.findMany({
          where: { tenantId: scope.tenantId, conversationId: id, status: { in: ['complete', 'no_answer'] } },
          orderBy: { id: 'desc' },
          take: HISTORY_MESSAGES,
        });
        turns = recent.reverse().map((message) => ({ role: message.role as Turn['role'], content: message.content }));
        await tx.conversation.update({ where: { id }, data: { updatedAt: new Date() } });
      } else {
        id = uuidv7();
        await tx.conversation.create({
          data: {
            id,
            tenantId: scope.tenantId,
            userId: access.userId,
            title: request.message.replace(/\s+/g, ' ').trim().slice(0, 120),
            collectionIds: access.collections.map((collection) => collection.id),
          },
        });
      }
      const message = await tx.message.create({
        data: { id: uuidv7(), tenantId: scope.tenantId, conversationId: id, role: 'user', content: request.message, status: 'complete' },
      });
      return { conversationId: id, history: turns, userMessageId: message.id };
    });

    const messageId = uuidv7();
    const events = async function* (this: ChatService, signal: AbortSignal): AsyncGenerator<ChatEvent> {
      yield { type: 'message_start', conversationId, userMessageId, messageId, templateVersion: TEMPLATE_VERSION, model: model.model };
      const rewrite = await this.rewriter.rewrite(scope, access, model, history, request.message, signal);
      const answer = this.pipeline.run(scope, {
        query: rewrite.query,
        rewrite: rewrite.method,
        access,
        models,
        useFallback,
        mode: request.mode,
        purpose: 'chat',
        useCache: true,
        messageId,
        signal,
        startedAt,
        excludedMs: rewrite.modelMs,
      });
      let step = await answer.next();
      while (!step.done) {
        yield step.value;
        step = await answer.next();
      }
      const outcome = step.value;
      await this.store(scope, access, { conversationId, messageId, question: request.message, standaloneQuery: rewrite.query, rewrite: rewrite.method }, outcome);
      yield doneEvent(conversationId, messageId, outcome);
    }.bind(this);
    return { conversationId, userMessageId, messageId, events };
  }

  /** Retrieval and generation for a standalone `query` without storing a message (replay, batch jobs). */
  async answerOnce(
    scope: TenantScope,
    access: ChatAccess,
    query: string,
    mode: SearchMode,
    signal: AbortSignal,
    purpose: 'replay' | 'batch' = 'replay',
  ): Promise<AnswerOutcome> {
    const startedAt = performance.now();
    const models = await this.models.forTenant(scope);
    const useFallback = await this.checkBudgetAndSize(scope, access, models, query);
    const run = this.pipeline.run(scope, { query, rewrite: 'none', access, models, useFallback, mode, purpose, useCache: purpose === 'batch', signal, startedAt, excludedMs: 0 });
    let step = await run.next();
    while (!step.done) step = await run.next();
    return step.value;
  }

  /** Another user's conversation is as absent as a missing one; checked before the budget is asked. */
  private async requireOwnConversation(scope: TenantScope, userId: string, id: string): Promise<void> {
    const found = await this.db.tenant(scope, (tx) => tx.conversation.findFirst({ where: { tenantId: scope.tenantId, userId, id }, select: { id: true } }));
    if (!found) throw AppError.notFound('Conversation');
  }

  /** Returns true when the budget says to use the fallback model. */
  private async checkBudgetAndSize(scope: TenantScope, access: ChatAccess, models: ChatModelSet, message: string): Promise<boolean> {
    const primary = models.primary;
    const [questionTokens, skeletonTokens] = await Promise.all([
      primary.countTokens(message),
      primary.countTokens(promptSkeleton('').map((m) => m.content).join('\n')),
    ]);
    const limit = primary.contextWindow - this.settings.answerMaxTokens - skeletonTokens - MIN_PASSAGE_TOKENS;
    if (questionTokens > limit) {
      throw new AppError(400, ErrorCode.MessageTooLong, `The message is ${questionTokens} tokens; ${primary.model} can take at most ${Math.max(0, limit)} with its passages and answer`, {
        tokens: questionTokens,
        maxTokens: Math.max(0, limit),
      });
    }
    // Passages are not known yet: the question, the template and a full answer are the least this call costs.
    const estimate = questionTokens + skeletonTokens + this.settings.answerMaxTokens;
    const decision = await this.budget.authorize(scope, access, primary.model, estimate);
    if (decision.action === 'allow') return false;
    if (decision.action === 'block') throw blocked(decision);
    if (!models.fallback) {
      throw new AppError(402, ErrorCode.BudgetExceeded, `The budget for ${primary.model} is used up and no fallback model is configured`, { reason: decision.reason });
    }
    const second = await this.budget.authorize(scope, access, models.fallback.model, estimate);
    if (second.action === 'block') throw blocked(second);
    return true;
  }

  private async store(
    scope: TenantScope,
    access: ChatAccess,
    turn: { conversationId: string; messageId: string; question: string; standaloneQuery: string; rewrite: string },
    outcome: AnswerOutcome,
  ): Promise<void> {
    await this.db.tenant(scope, async (tx) => {
      await tx.message.create({
        data: {
          id: turn.messageId,
          tenantId: scope.tenantId,
          conversationId: turn.conversationId,
          role: 'assistant',
          content: outcome.content,
          citations: outcome.citations as unknown as Prisma.InputJsonArray,
          status: outcome.status,
        },
      });
      await tx.answerTrace.create({
        data: {
          id: uuidv7(),
          tenantId: scope.tenantId,
          messageId: turn.messageId,
          conversationId: turn.conversationId,
          userId: access.userId,
          question: turn.question,
          standaloneQuery: turn.standaloneQuery,
          rewrite: turn.rewrite,
          templateVersion: TEMPLATE_VERSION,
          provider: outcome.provider,
          model: outcome.model,
          params: outcome.params,
          retrievalConfig: outcome.retrievalConfig as unknown as Prisma.InputJsonObject,
          retrieved: outcome.retrieved as unknown as Prisma.InputJsonArray,
          promptTokens: outcome.usage.inputTokens,
          completionTokens: outcome.usage.outputTokens,
          latencyMs: outcome.timings.latencyMs,
          timeToFirstTokenMs: outcome.timings.timeToFirstTokenMs,
          costUsd: new Prisma.Decimal(outcome.costUsd),
          droppedCitations: outcome.droppedCitations,
          cacheHit: outcome.cacheHit,
          finishReason: outcome.finishReason,
          errorCode: outcome.errorCode,
        },
      });
    });
  }
}

export function doneEvent(conversationId: string, messageId: string, outcome: AnswerOutcome): DoneEvent {
  return {
    type: 'done',
    conversationId,
    messageId,
    status: outcome.status,
    content: outcome.content,
    citations: outcome.citations,
    droppedCitations: outcome.droppedCitations,
    model: outcome.model,
    usage: outcome.usage,
    costUsd: outcome.costUsd,
    cached: outcome.cacheHit,
    timings: outcome.timings,
  };
}

function blocked(decision: { code: string; status: number; message: string; retryAfterMs?: number }): AppError {
  const headers: Record<string, string> = decision.retryAfterMs ? { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) } : {};
  return new AppError(decision.status, decision.code as ErrorCode, decision.message, decision.retryAfterMs ? { retryAfterMs: decision.retryAfterMs } : undefined, headers);
}
