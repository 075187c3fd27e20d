import type { TenantScope } from '@quarry/core';
import { GenerationError, type GenerationErrorKind, type GenerationProvider, type TokenUsage } from '@quarry/generation';
import { fusionDefaults, type SearchCollection, type SearchMode, type SearchResult, type SearchService } from '@quarry/retrieval';
import type { AnswerCache, AnswerCacheKey } from './answer-cache';
import type { ChatEvent, ChatTimings, MessageStatus, RetrievedPassage } from './chat-events';
import { parseCitations, StreamingCitationScanner, type Citation } from './citations';
import type { ChatSettings } from './config';
import { packToBudget } from './context-packing';
import { groundedMessages, NO_ANSWER_TEXT, promptSkeleton, renderPassage, TEMPLATE_VERSION } from './prompt-template';
import type { ChatModelSet, ModelBudget, ModelCaller, ModelCallPurpose } from './ports';
import { isRelevant } from './relevance';

/** What retrieval may read for this asker: resolved collections and their ACL tokens. */
export interface ChatAccess extends ModelCaller {
  readerTokens: string[];
  collections: SearchCollection[];
}

export interface AnswerInput {
  query: string;
  access: ChatAccess;
  models: ChatModelSet;
  /** The budget said to skip the primary. */
  useFallback: boolean;
  mode: SearchMode;
  purpose: Exclude<ModelCallPurpose, 'rewrite'>;
  useCache: boolean;
  /** How the query was made from the user's message (reported in the retrieval event). */
  rewrite: 'none' | 'model' | 'fallback';
  messageId?: string;
  signal: AbortSignal;
  /** Model time already spent (rewriting) that does not count as server overhead. */
  startedAt: number;
  excludedMs: number;
}

export interface TracedPassage extends RetrievedPassage {
  rank: number;
  usedInPrompt: boolean;
}

export interface AnswerOutcome {
  status: MessageStatus;
  content: string;
  citations: Citation[];
  droppedCitations: number;
  provider: string | null;
  model: string | null;
  params: { maxTokens: number; temperature: number; stop: string[] };
  retrievalConfig: ReturnType<typeof retrievalConfigOf>;
  retrieved: TracedPassage[];
  usage: TokenUsage;
  costUsd: number;
  cacheHit: boolean;
  finishReason: string | null;
  errorCode: string | null;
  timings: ChatTimings;
}

/** The deployment's fusion defaults (chosen by the SciFact tuning run; see docs/architecture.md, Retrieval). */
const fusion = fusionDefaults;
const SAFETY_TOKENS = 32;

export function retrievalConfigOf(settings: ChatSettings, mode: SearchMode, collectionIds: readonly string[]) {
  return { mode, topK: settings.topK, fusion, relevance: settings.relevance, collectionIds: [...collectionIds].sort() };
}

/** Stream event codes for model failures, by kind. */
export const generationErrorCodes: Record<GenerationErrorKind, string> = {
  timeout: 'MODEL_TIMEOUT',
  unavailable: 'MODEL_UNAVAILABLE',
  rate_limited: 'MODEL_RATE_LIMITED',
  bad_response: 'MODEL_BAD_RESPONSE',
  empty_response: 'MODEL_EMPTY_RESPONSE',
  invalid_request: 'MODEL_REJECTED',
  context_overflow: 'MODEL_REJECTED',
};

/**
 * One grounded answer: retrieval under the asker's ACL, the relevance rule, the answer cache, packing to the
 * window, generation with citations as they stream, and billing of exactly what was generated. It yields the
 * client events and returns the outcome for the trace; persisting is the caller's business.
 */
export class AnswerPipeline {
  constructor(
    private readonly search: SearchService,
    private readonly cache: AnswerCache,
    private readonly budget: ModelBudget,
    private readonly settings: ChatSettings,
  ) {}

  async *run(scope: TenantScope, input: AnswerInput): AsyncGenerator<ChatEvent, AnswerOutcome> {
    const model = input.useFallback && input.models.fallback ? input.models.fallback : input.models.primary;
    const params = { maxTokens: this.settings.answerMaxTokens, temperature: this.settings.temperature, stop: ['</passage>', '\nQuestion:'] };
    const retrievalConfig = retrievalConfigOf(this.settings, input.mode, input.access.collections.map((collection) => collection.id));
    const outcome: AnswerOutcome = {
      status: 'complete',
      content: '',
      citations: [],
      droppedCitations: 0,
      provider: model.kind,
      model: model.model,
      params,
      retrievalConfig,
      retrieved: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      cacheHit: false,
      finishReason: null,
      errorCode: null,
      timings: { overheadMs: 0, embedMs: 0, timeToFirstTokenMs: null, latencyMs: 0 },
    };
    const finish = (): AnswerOutcome => {
      outcome.timings.latencyMs = Math.round(performance.now() - input.startedAt);
      return outcome;
    };
    const cacheKey: AnswerCacheKey = {
      question: input.query,
      readerTokens: input.access.readerTokens,
      collectionIds: retrievalConfig.collectionIds,
      retrievalConfig,
      model: model.model,
      templateVersion: TEMPLATE_VERSION,
    };

    const response = await this.search.search(scope, {
      query: input.query,
      collections: input.access.collections,
      topK: this.settings.topK,
      mode: input.mode,
      filters: {},
      readerTokens: input.access.readerTokens,
      fusion,
      debug: false,
    });
    outcome.timings.embedMs = Math.round(response.timingsMs.embed);
    const relevant = response.results.filter((result) => isRelevant(result, this.settings.relevance));

    if (input.useCache && relevant.length > 0 && this.settings.cacheTtlSeconds > 0) {
      const cached = await this.cache.get(scope, cacheKey);
      if (cached) {
        Object.assign(outcome, {
          content: cached.content,
          citations: cached.citations,
          droppedCitations: cached.droppedCitations,
          retrieved: cached.retrieved as TracedPassage[],
          cacheHit: true,
          finishReason: 'stop',
        });
        outcome.timings.overheadMs = this.overhead(input, outcome);
        const passages = outcome.retrieved.filter((passage) => passage.usedInPrompt).map(({ rank: _rank, usedInPrompt: _used, ...passage }) => passage);
        yield { type: 'retrieval', standaloneQuery: input.query, rewrite: input.rewrite, passages, noAnswer: false, cached: true };
        yield { type: 'delta', text: cached.content };
        for (const citation of cached.citations) yield { type: 'citation', citation };
        return finish();
      }
    }

    const skeletonTokens = await countMessages(model, promptSkeleton(input.query));
    const passageBudget = model.contextWindow - params.maxTokens - skeletonTokens - SAFETY_TOKENS;
    const { packed } = await packToBudget(
      relevant,
      (result, index) => renderPassage({ index, title: result.documentTitle, headingPath: result.headingPath, pageStart: result.pageStart, text: result.text }),
      (text) => model.countTokens(text),
      passageBudget,
    );
    const passages = packed.map((result, position) => toPassage(result, position + 1));
    const indexOf = new Map(passages.map((passage) => [passage.chunkId, passage.index]));
    outcome.retrieved = response.results.map((result, position) => ({
      ...toPassage(result, indexOf.get(result.chunkId) ?? 0),
      rank: position + 1,
      usedInPrompt: indexOf.has(result.chunkId),
    }));

    yield { type: 'retrieval', standaloneQuery: input.query, rewrite: input.rewrite, passages, noAnswer: passages.length === 0, cached: false };
    if (passages.length === 0) {
      outcome.status = 'no_answer';
      outcome.content = NO_ANSWER_TEXT;
      outcome.provider = null;
      outcome.model = null;
      outcome.finishReason = 'stop';
      outcome.timings.overheadMs = this.overhead(input, outcome);
      yield { type: 'delta', text: NO_ANSWER_TEXT };
      return finish();
    }

    const messages = groundedMessages(
      input.query,
      packed.map((result, position) => ({ index: position + 1, title: result.documentTitle, headingPath: result.headingPath, pageStart: result.pageStart, text: result.text })),
    );
    const scanner = new StreamingCitationScanner(new Map(passages.map((passage) => [passage.index, passage])));
    outcome.timings.overheadMs = this.overhead(input, outcome);
    if (input.signal.aborted) {
      // The client left before the model was asked: nothing to generate or bill.
      outcome.status = 'cancelled';
      outcome.finishReason = 'cancelled';
      return finish();
    }
    let text = '';
    try {
      for await (const event of model.stream({ messages, maxTokens: params.maxTokens, temperature: params.temperature, stop: params.stop, signal: input.signal })) {
        if (event.type === 'delta') {
          if (event.text.length === 0) continue;
          outcome.timings.timeToFirstTokenMs ??= Math.round(performance.now() - input.startedAt);
          text += event.text;
          yield { type: 'delta', text: event.text };
          for (const citation of scanner.push(event.text)) yield { type: 'citation', citation };
        } else {
          outcome.usage = event.usage;
          outcome.finishReason = event.finishReason;
        }
      }
      if (outcome.finishReason === 'cancelled' || input.signal.aborted) outcome.status = 'cancelled';
      else if (text.trim().length === 0) {
        outcome.status = 'failed';
        outcome.errorCode = generationErrorCodes.empty_response;
        yield { type: 'error', code: outcome.errorCode, message: `${model.model} returned an empty answer`, retryable: true };
      }
    } catch (error) {
      if (error instanceof GenerationError) outcome.usage = error.partialUsage ?? outcome.usage;
      // A provider may throw the abort reason itself; after a disconnect any failure is the cancellation.
      if (input.signal.aborted) {
        outcome.status = 'cancelled';
        outcome.finishReason = 'cancelled';
      } else if (!(error instanceof GenerationError)) {
        throw error;
      } else {
        outcome.status = 'failed';
        outcome.errorCode = generationErrorCodes[error.kind];
        outcome.finishReason = 'error';
        yield { type: 'error', code: outcome.errorCode, message: error.message, retryable: error.retryable };
      }
    } finally {
      // Bill what was generated, whatever happened (also when the client went away).
      const { costUsd } = await this.budget.recordModelCall(scope, input.access, {
        model: model.model,
        inputTokens: outcome.usage.inputTokens,
        outputTokens: outcome.usage.outputTokens,
        purpose: input.purpose,
        ...(input.messageId ? { messageId: input.messageId } : {}),
      });
      outcome.costUsd = costUsd;
    }

    const parsed = parseCitations(text, passages);
    outcome.content = parsed.text;
    outcome.citations = parsed.citations;
    outcome.droppedCitations = parsed.dropped;
    if (outcome.status === 'complete' && parsed.text.includes(NO_ANSWER_TEXT.slice(0, 40))) outcome.status = 'no_answer';
    if (outcome.status === 'complete' && input.useCache && this.settings.cacheTtlSeconds > 0) {
      await this.cache.put(scope, cacheKey, {
        content: outcome.content,
        citations: outcome.citations,
        droppedCitations: outcome.droppedCitations,
        model: model.model,
        retrieved: outcome.retrieved,
      });
    }
    return finish();
  }

  /** Server time before the model was asked, without query embedding and model time spent rewriting. */
  private overhead(input: AnswerInput, outcome: AnswerOutcome): number {
    return Math.max(0, Math.round(performance.now() - input.startedAt - input.excludedMs - outcome.timings.embedMs));
  }
}

/** Where a passage came from and how it scored; never its text (traces keep ids, not document text). */
function toPassage(result: SearchResult, index: number): RetrievedPassage {
  return {
    index,
    chunkId: result.chunkId,
    documentId: result.documentId,
    documentName: result.documentName,
    documentTitle: result.documentTitle,
    headingPath: result.headingPath,
    pageStart: result.pageStart,
    pageEnd: result.pageEnd,
    scores: result.scores,
  };
}

async function countMessages(model: GenerationProvider, messages: readonly { content: string }[]): Promise<number> {
  // Each message costs a few tokens of chat-template framing beyond its text.
  const counts = await Promise.all(messages.map((message) => model.countTokens(message.content)));
  return counts.reduce((sum, count) => sum + count + 8, 0);
}
