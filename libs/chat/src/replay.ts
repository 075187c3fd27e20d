import type { TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';
import type { SearchMode } from '@quarry/retrieval';
import type { AnswerOutcome, ChatAccess, TracedPassage } from './answer-pipeline';
import type { ChatService } from './chat.service';
import type { Citation } from './citations';
import { toMessageView, type ConversationsService, type TraceView } from './conversations.service';
import { TEMPLATE_VERSION } from './prompt-template';

export interface ReplaySide {
  content: string;
  status: string;
  citations: Citation[];
  templateVersion: string;
  model: string | null;
  retrieved: { chunkId: string; rank: number; usedInPrompt: boolean; fused: number }[];
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  costUsd: number;
}

export interface ReplayDifference {
  answerChanged: boolean;
  templateChanged: boolean;
  modelChanged: boolean;
  /** Passages in today's prompt that were not in the original's, and the other way round. */
  passagesAdded: string[];
  passagesRemoved: string[];
  citedDocumentsAdded: string[];
  citedDocumentsRemoved: string[];
  promptTokensDelta: number;
  completionTokensDelta: number;
  latencyMsDelta: number;
  costUsdDelta: number;
}

export interface ReplayResult {
  messageId: string;
  query: string;
  original: ReplaySide;
  replay: ReplaySide;
  difference: ReplayDifference;
}

/**
 * Re-runs a stored answer's standalone query against today's configuration (template, model, settings,
 * documents and the asker's current permissions) and shows what changed. Nothing is stored; the model
 * call is billed like any other.
 */
export class ReplayService {
  constructor(
    private readonly db: Database,
    private readonly conversations: ConversationsService,
    private readonly chat: ChatService,
  ) {}

  async replay(scope: TenantScope, access: ChatAccess, messageId: string, signal: AbortSignal): Promise<ReplayResult> {
    const trace = await this.conversations.trace(scope, access.userId, messageId);
    const message = await this.db.tenant(scope, (tx) => tx.message.findFirstOrThrow({ where: { tenantId: scope.tenantId, id: messageId } }));
    const mode = ((trace.retrievalConfig as { mode?: SearchMode } | null)?.mode ?? 'hybrid');
    const outcome = await this.chat.answerOnce(scope, access, trace.standaloneQuery, mode, signal);
    const original = originalSide(trace, toMessageView(message));
    const replay = replaySide(outcome);
    return { messageId, query: trace.standaloneQuery, original, replay, difference: compare(original, replay) };
  }
}

function originalSide(trace: TraceView, message: ReturnType<typeof toMessageView>): ReplaySide {
  return {
    content: message.content,
    status: message.status,
    citations: message.citations,
    templateVersion: trace.templateVersion,
    model: trace.model,
    retrieved: summarize(trace.retrieved as TracedPassage[]),
    promptTokens: trace.promptTokens,
    completionTokens: trace.completionTokens,
    latencyMs: trace.latencyMs,
    costUsd: trace.costUsd,
  };
}

function replaySide(outcome: AnswerOutcome): ReplaySide {
  return {
    content: outcome.content,
    status: outcome.status,
    citations: outcome.citations,
    templateVersion: TEMPLATE_VERSION,
    model: outcome.model,
    retrieved: summarize(outcome.retrieved),
    promptTokens: outcome.usage.inputTokens,
    completionTokens: outcome.usage.outputTokens,
    latencyMs: outcome.timings.latencyMs,
    costUsd: outcome.costUsd,
  };
}

function summarize(retrieved: readonly TracedPassage[]): ReplaySide['retrieved'] {
  return retrieved.map((passage) => ({ chunkId: passage.chunkId, rank: passage.rank, usedInPrompt: passage.usedInPrompt, fused: passage.scores.fused }));
}

export function compare(original: ReplaySide, replay: ReplaySide): ReplayDifference {
  const inPrompt = (side: ReplaySide) => new Set(side.retrieved.filter((passage) => passage.usedInPrompt).map((passage) => passage.chunkId));
  const cited = (side: ReplaySide) => new Set(side.citations.map((citation) => citation.documentId));
  const [before, after] = [inPrompt(original), inPrompt(replay)];
  const [citedBefore, citedAfter] = [cited(original), cited(replay)];
  return {
    answerChanged: original.content !== replay.content,
    templateChanged: original.templateVersion !== replay.templateVersion,
    modelChanged: original.model !== replay.model,
    passagesAdded: [...after].filter((id) => !before.has(id)),
    passagesRemoved: [...before].filter((id) => !after.has(id)),
    citedDocumentsAdded: [...citedAfter].filter((id) => !citedBefore.has(id)),
    citedDocumentsRemoved: [...citedBefore].filter((id) => !citedAfter.has(id)),
    promptTokensDelta: replay.promptTokens - original.promptTokens,
    completionTokensDelta: replay.completionTokens - original.completionTokens,
    latencyMsDelta: replay.latencyMs - original.latencyMs,
    costUsdDelta: Math.round((replay.costUsd - original.costUsd) * 1e8) / 1e8,
  };
}
