import { AppError, decodeCursor, ErrorCode, toPage, type Page, type TenantScope } from '@quarry/core';
import { Prisma, type ChatJobModel, type Database } from '@quarry/db';
import type { SearchMode } from '@quarry/retrieval';
import { v7 as uuidv7 } from 'uuid';
import type { ChatAccess } from './answer-pipeline';
import type { ChatService } from './chat.service';
import type { Citation } from './citations';
import type { BatchSettings } from './config';
import { deliverWebhook, webhookSecret } from './webhook';

export interface BatchAnswer {
  question: string;
  status: string;
  content: string;
  citations: Citation[];
  error: string | null;
}

export interface BatchJobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: { completed: number; total: number };
  results: BatchAnswer[];
  webhook: { url: string; status: string | null; attempts: number; error: string | null } | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface NewBatchJob {
  questions: string[];
  collectionIds?: string[];
  mode: SearchMode;
  webhookUrl?: string;
}

/** Puts a job on the queue (the API gives BullMQ here; tests may run jobs directly). */
export type BatchEnqueue = (scope: TenantScope, jobId: string) => Promise<void>;

/** Resolves, when the job runs, what its user may read now (permissions may have changed since it was queued). */
export type BatchAccessResolver = (scope: TenantScope, job: { userId: string; apiKeyId: string | null; collectionIds: string[] }) => Promise<ChatAccess>;

/**
 * Batch questions for integrators. Each answer is stored as soon as it is made, so a job retried after a
 * crash resumes where it stopped; the webhook (if any) gets the whole result, signed, once the job ends.
 */
export class BatchJobsService {
  constructor(
    private readonly db: Database,
    private readonly chat: ChatService,
    private readonly settings: BatchSettings,
  ) {}

  async create(scope: TenantScope, owner: { userId: string; apiKeyId: string | null }, input: NewBatchJob, enqueue: BatchEnqueue): Promise<BatchJobView & { webhookSecret: string | null }> {
    if (input.webhookUrl && !this.settings.signingKey) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'Webhooks are not enabled on this deployment (CHAT_WEBHOOK_SIGNING_KEY is unset)');
    }
    const id = uuidv7();
    const row = await this.db.tenant(scope, (tx) =>
      tx.chatJob.create({
        data: {
          id,
          tenantId: scope.tenantId,
          userId: owner.userId,
          apiKeyId: owner.apiKeyId,
          questions: input.questions,
          collectionIds: input.collectionIds ?? [],
          mode: input.mode,
          total: input.questions.length,
          webhookUrl: input.webhookUrl ?? null,
          webhookStatus: input.webhookUrl ? 'pending' : null,
        },
      }),
    );
    await enqueue(scope, id);
    const secret = input.webhookUrl && this.settings.signingKey ? webhookSecret(this.settings.signingKey, id) : null;
    return { ...toView(row), webhookSecret: secret };
  }

  async get(scope: TenantScope, userId: string, id: string): Promise<BatchJobView> {
    const row = await this.db.tenant(scope, (tx) => tx.chatJob.findFirst({ where: { tenantId: scope.tenantId, userId, id } }));
    if (!row) throw AppError.notFound('Job');
    return toView(row);
  }

  async list(scope: TenantScope, userId: string, query: { limit: number; cursor?: string }): Promise<Page<BatchJobView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.chatJob.findMany({ where: { tenantId: scope.tenantId, userId, ...(after ? { id: { lt: after } } : {}) }, orderBy: { id: 'desc' }, take: query.limit + 1 }),
    );
    return toPage(rows, query.limit, toView);
  }

  /** Runs (or resumes) a job. Idempotent: answered questions are skipped, a finished job only retries its webhook. */
  async run(scope: TenantScope, id: string, resolveAccess: BatchAccessResolver, signal: AbortSignal): Promise<BatchJobView> {
    let row = await this.load(scope, id);
    if (row.status === 'queued' || row.status === 'running') {
      row = await this.update(scope, id, { status: 'running' });
      try {
        const access = await resolveAccess(scope, { userId: row.userId, apiKeyId: row.apiKeyId, collectionIds: row.collectionIds });
        const questions = row.questions as string[];
        const results = [...(row.results as unknown as BatchAnswer[])];
        for (let index = results.length; index < questions.length; index += 1) {
          const question = questions[index]!;
          results.push(await this.answer(scope, access, question, row.mode as SearchMode, signal));
          row = await this.update(scope, id, { results: results as unknown as Prisma.InputJsonArray, completed: results.length });
        }
        row = await this.update(scope, id, { status: 'succeeded', finishedAt: new Date() });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        // Refusals (no access any more, budget, no model) will not pass on retry: the job fails with the reason.
        row = await this.update(scope, id, { status: 'failed', error: `${error.code}: ${error.message}`, finishedAt: new Date() });
      }
    }
    if (row.webhookUrl && row.webhookStatus === 'pending' && this.settings.signingKey) {
      const body = JSON.stringify({ type: 'chat.job.finished', job: toView(row) });
      const result = await deliverWebhook(row.webhookUrl, webhookSecret(this.settings.signingKey, id), body, this.settings.webhook);
      row = await this.update(scope, id, {
        webhookStatus: result.delivered ? 'delivered' : 'failed',
        webhookAttempts: { increment: result.attempts },
        webhookError: result.error,
      });
    }
    return toView(row);
  }

  private async answer(scope: TenantScope, access: ChatAccess, question: string, mode: SearchMode, signal: AbortSignal): Promise<BatchAnswer> {
    try {
      const outcome = await this.chat.answerOnce(scope, access, question, mode, signal, 'batch');
      return { question, status: outcome.status, content: outcome.content, citations: outcome.citations, error: outcome.errorCode };
    } catch (error) {
      // One unanswerable question (e.g. too long for the model) does not sink the batch.
      if (error instanceof AppError && error.status < 500 && error.code === ErrorCode.MessageTooLong) {
        return { question, status: 'failed', content: '', citations: [], error: error.code };
      }
      throw error;
    }
  }

  private async load(scope: TenantScope, id: string): Promise<ChatJobModel> {
    const row = await this.db.tenant(scope, (tx) => tx.chatJob.findFirst({ where: { tenantId: scope.tenantId, id } }));
    if (!row) throw AppError.notFound('Job');
    return row;
  }

  private update(scope: TenantScope, id: string, data: Prisma.ChatJobUpdateInput): Promise<ChatJobModel> {
    return this.db.tenant(scope, (tx) => tx.chatJob.update({ where: { id }, data }));
  }
}

function toView(row: ChatJobModel): BatchJobView {
  return {
    id: row.id,
    status: row.status as BatchJobView['status'],
    progress: { completed: row.completed, total: row.total },
    results: row.results as unknown as BatchAnswer[],
    webhook: row.webhookUrl ? { url: row.webhookUrl, status: row.webhookStatus, attempts: row.webhookAttempts, error: row.webhookError } : null,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
