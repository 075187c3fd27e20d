import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema, pageSchema } from './common.dto';

export class ChatBody extends createZodDto(
  z
    .object({
      /** The question. Its size is checked against the model's window too (MESSAGE_TOO_LONG). */
      message: z.string().trim().min(1, 'must not be empty').max(100_000, 'must be at most 100,000 characters'),
      /** Continue this conversation; omitted: start a new one. */
      conversationId: idSchema.optional(),
      /** Collections to answer from; all the tenant's when omitted. */
      collectionIds: z.array(idSchema).min(1).max(50).optional(),
      mode: z.enum(['dense', 'lexical', 'hybrid']).default('hybrid'),
      /** false: one JSON body when the answer is complete instead of server-sent events. */
      stream: z.boolean().default(true),
    })
    .strict(),
) {}

export class FeedbackBody extends createZodDto(
  z.object({ rating: z.enum(['up', 'down']), comment: z.string().trim().max(2_000).optional() }).strict(),
) {}

const citation = z.object({
  index: z.number().int(),
  chunkId: z.string(),
  documentId: z.string(),
  documentName: z.string(),
  documentTitle: z.string(),
  headingPath: z.array(z.string()),
  pageStart: z.number().int().nullable(),
  pageEnd: z.number().int().nullable(),
});

const message = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  citations: z.array(citation),
  status: z.enum(['complete', 'no_answer', 'cancelled', 'failed']),
  createdAt: z.string(),
});

const conversation = z.object({ id: z.string(), title: z.string(), collectionIds: z.array(z.string()), createdAt: z.string(), updatedAt: z.string() });

export class ConversationDto extends createZodDto(conversation) {}
export class ConversationPageDto extends createZodDto(pageSchema(conversation)) {}
export class ConversationWithMessagesDto extends createZodDto(conversation.extend({ messages: z.array(message) })) {}

/** The non-streaming answer: the same fields as the `done` event. */
export class ChatAnswerDto extends createZodDto(
  z.object({
    type: z.literal('done'),
    conversationId: z.string(),
    messageId: z.string(),
    status: z.enum(['complete', 'no_answer', 'cancelled', 'failed']),
    content: z.string(),
    citations: z.array(citation),
    droppedCitations: z.number().int(),
    model: z.string().nullable(),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
    costUsd: z.number(),
    cached: z.boolean(),
    timings: z.object({ overheadMs: z.number(), embedMs: z.number(), timeToFirstTokenMs: z.number().nullable(), latencyMs: z.number() }),
  }),
) {}

export class TraceDto extends createZodDto(
  z.object({
    id: z.string(),
    messageId: z.string(),
    conversationId: z.string(),
    question: z.string(),
    standaloneQuery: z.string(),
    rewrite: z.string(),
    templateVersion: z.string(),
    provider: z.string().nullable(),
    model: z.string().nullable(),
    params: z.unknown(),
    retrievalConfig: z.unknown(),
    retrieved: z.unknown(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    latencyMs: z.number().int(),
    timeToFirstTokenMs: z.number().int().nullable(),
    costUsd: z.number(),
    droppedCitations: z.number().int(),
    cacheHit: z.boolean(),
    finishReason: z.string().nullable(),
    errorCode: z.string().nullable(),
    feedback: z.object({ rating: z.enum(['up', 'down']), comment: z.string().nullable(), at: z.string() }).nullable(),
    createdAt: z.string(),
  }),
) {}

export class ReplayDto extends createZodDto(
  z.object({ messageId: z.string(), query: z.string(), original: z.unknown(), replay: z.unknown(), difference: z.record(z.string(), z.unknown()) }),
) {}

export class BatchJobBody extends createZodDto(
  z
    .object({
      questions: z.array(z.string().trim().min(1, 'must not be empty').max(20_000)).min(1).max(100),
      collectionIds: z.array(idSchema).min(1).max(50).optional(),
      mode: z.enum(['dense', 'lexical', 'hybrid']).default('hybrid'),
      /** Receives the finished job as JSON, signed with the job's webhook secret. */
      webhookUrl: z
        .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
        .max(2_000)
        .optional(),
    })
    .strict(),
) {}

const batchJob = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.object({ completed: z.number().int(), total: z.number().int() }),
  results: z.array(z.object({ question: z.string(), status: z.string(), content: z.string(), citations: z.array(citation), error: z.string().nullable() })),
  webhook: z.object({ url: z.string(), status: z.string().nullable(), attempts: z.number().int(), error: z.string().nullable() }).nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export class BatchJobDto extends createZodDto(batchJob) {}
export class BatchJobPageDto extends createZodDto(pageSchema(batchJob)) {}
export class CreatedBatchJobDto extends createZodDto(batchJob.extend({ webhookSecret: z.string().nullable() })) {}
