import type { Citation } from './citations';

export interface RetrievedPassage {
  index: number;
  chunkId: string;
  documentId: string;
  documentName: string;
  documentTitle: string;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  scores: { lexical: number | null; dense: number | null; fused: number };
}

export type MessageStatus = 'complete' | 'no_answer' | 'cancelled' | 'failed';

export interface ChatTimings {
  /** Server time before the model was asked for the first token (auth excluded, retrieval and prompt included). */
  overheadMs: number;
  /** Query embedding, inside overheadMs. */
  embedMs: number;
  /** From the request's start to the first generated token. */
  timeToFirstTokenMs: number | null;
  latencyMs: number;
}

/** The stream a client reads; `type` tells the events apart. `heartbeat` is added by the transport. */
export type ChatEvent =
  | { type: 'message_start'; conversationId: string; userMessageId: string; messageId: string; templateVersion: string; model: string }
  | { type: 'retrieval'; standaloneQuery: string; rewrite: 'none' | 'model' | 'fallback'; passages: RetrievedPassage[]; noAnswer: boolean; cached: boolean }
  | { type: 'delta'; text: string }
  | { type: 'citation'; citation: Citation }
  | { type: 'error'; code: string; message: string; retryable: boolean }
  | {
      type: 'done';
      conversationId: string;
      messageId: string;
      status: MessageStatus;
      content: string;
      citations: Citation[];
      droppedCitations: number;
      model: string | null;
      usage: { inputTokens: number; outputTokens: number };
      costUsd: number;
      cached: boolean;
      timings: ChatTimings;
    };

export type DoneEvent = Extract<ChatEvent, { type: 'done' }>;
