import { Global, Module } from '@nestjs/common';
import { CHAT_MODELS, MODEL_BUDGET } from '@quarry/chat';
import { DocumentsModule } from '@quarry/documents';
import { MeteringModule } from '@quarry/metering';
import { ObservabilityModule } from '@quarry/observability';
import { RetrievalModule } from '@quarry/retrieval';
import { ChatMetrics } from './chat-metrics';
import { UnconfiguredChatModels } from './chat-models';
import { ReaderAccess } from './reader-access';
import { UsageModelBudget } from './usage-model-budget';

/** What the chat library needs from the API: the tenant's models, budgets and usage, and reader access. */
@Global()
@Module({
  imports: [MeteringModule, ObservabilityModule, DocumentsModule, RetrievalModule],
  providers: [
    { provide: MODEL_BUDGET, useClass: UsageModelBudget },
    { provide: CHAT_MODELS, useClass: UnconfiguredChatModels },
    ChatMetrics,
    ReaderAccess,
  ],
  exports: [MODEL_BUDGET, CHAT_MODELS, ChatMetrics, ReaderAccess],
})
export class ChatWiringModule {}
