import { Module } from '@nestjs/common';
import { CONFIG } from '@quarry/core';
import { Database, RedisClient } from '@quarry/db';
import { MeteringModule, ModelBudgetService } from '@quarry/metering';
import { RetrievalModule, SearchService } from '@quarry/retrieval';
import { AnswerCache } from './answer-cache';
import { AnswerPipeline } from './answer-pipeline';
import { BatchJobsService } from './batch-jobs.service';
import { ChatService } from './chat.service';
import { chatSettings, type ChatEnv } from './config';
import { ConversationsService } from './conversations.service';
import { CHAT_MODELS, MODEL_BUDGET, type ChatModels, type ModelBudget } from './ports';
import { MeteredModelBudget } from './metered-budget';
import { ReplayService } from './replay';

export const CHAT_SETTINGS = Symbol('ChatSettings');

/**
 * Conversations, grounded answers, traces and replay. Every model call goes through metering's budgets. The
 * importing app provides CHAT_MODELS (the tenant's generation providers) globally and a CONFIG with the chat settings.
 */
@Module({
  imports: [RetrievalModule, MeteringModule],
  providers: [
    { provide: MODEL_BUDGET, inject: [ModelBudgetService], useFactory: (service: ModelBudgetService) => new MeteredModelBudget(service) },
    { provide: CHAT_SETTINGS, inject: [CONFIG], useFactory: (config: ChatEnv) => chatSettings(config) },
    { provide: ConversationsService, inject: [Database], useFactory: (db: Database) => new ConversationsService(db) },
    {
      provide: AnswerPipeline,
      inject: [SearchService, RedisClient, Database, MODEL_BUDGET, CHAT_SETTINGS],
      useFactory: (search: SearchService, redis: RedisClient, db: Database, budget: ModelBudget, settings: ReturnType<typeof chatSettings>) =>
        new AnswerPipeline(search, new AnswerCache(redis, db, settings.cacheTtlSeconds), budget, settings),
    },
    {
      provide: ChatService,
      inject: [Database, CHAT_MODELS, MODEL_BUDGET, AnswerPipeline, CHAT_SETTINGS],
      useFactory: (db: Database, models: ChatModels, budget: ModelBudget, pipeline: AnswerPipeline, settings: ReturnType<typeof chatSettings>) =>
        new ChatService(db, models, budget, pipeline, settings),
    },
    {
      provide: ReplayService,
      inject: [Database, ConversationsService, ChatService],
      useFactory: (db: Database, conversations: ConversationsService, chat: ChatService) => new ReplayService(db, conversations, chat),
    },
    {
      provide: BatchJobsService,
      inject: [Database, ChatService, CHAT_SETTINGS],
      useFactory: (db: Database, chat: ChatService, settings: ReturnType<typeof chatSettings>) => new BatchJobsService(db, chat, settings.batch),
    },
  ],
  exports: [ChatService, ConversationsService, ReplayService, BatchJobsService, CHAT_SETTINGS],
})
export class ChatModule {}
