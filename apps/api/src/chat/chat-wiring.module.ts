import { Global, Module } from '@nestjs/common';
import { CHAT_MODELS } from '@quarry/chat';
import { DocumentsModule } from '@quarry/documents';
import { ObservabilityModule } from '@quarry/observability';
import { RetrievalModule } from '@quarry/retrieval';
import { ChatMetrics } from './chat-metrics';
import { DeploymentChatModels } from './chat-models';
import { ReaderAccess } from './reader-access';

/** What the chat library needs from the API: the tenant's models; and reader access and metrics for the controllers. */
@Global()
@Module({
  imports: [ObservabilityModule, DocumentsModule, RetrievalModule],
  providers: [
    { provide: CHAT_MODELS, useClass: DeploymentChatModels },
    ChatMetrics,
    ReaderAccess,
  ],
  exports: [CHAT_MODELS, ChatMetrics, ReaderAccess],
})
export class ChatWiringModule {}
