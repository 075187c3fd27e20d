import { Global, Module } from '@nestjs/common';
import { CHAT_MODELS, TenantChatModels } from '@quarry/chat';
import { DocumentsModule } from '@quarry/documents';
import { GenerationModule } from '@quarry/generation';
import { JobProducer } from '@quarry/jobs';
import { ObservabilityModule } from '@quarry/observability';
import { RetrievalModule } from '@quarry/retrieval';
import { BatchQueue } from './batch-queue';
import { ChatMetrics } from './chat-metrics';
import { CallerAccess } from './caller-access';

/** What the chat library needs from the API: the tenant's models; and reader access and metrics for the controllers. */
@Global()
@Module({
  imports: [ObservabilityModule, DocumentsModule, RetrievalModule, GenerationModule],
  providers: [
    { provide: CHAT_MODELS, useClass: TenantChatModels },
    ChatMetrics,
    CallerAccess,
    BatchQueue,
    JobProducer,
  ],
  exports: [CHAT_MODELS, ChatMetrics, CallerAccess, BatchQueue],
})
export class ChatWiringModule {}
