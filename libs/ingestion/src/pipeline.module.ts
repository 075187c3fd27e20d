import { Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG } from '@quarry/core';
import { Database } from '@quarry/db';
import { CollectionsService, DocumentsService } from '@quarry/documents';
import { MeteringModule, UsageWriter } from '@quarry/metering';
import { EmbeddingProviders, ThreadedUseLiteEmbeddingProvider, threadedEmbeddingProvidersFactory } from '@quarry/models';
import { OBJECT_STORAGE, type ObjectStorage } from '@quarry/storage';
import type { IngestionWorkerConfig } from './config';
import { DocumentEventPublisher } from './events/document-events';
import { IngestionModule } from './ingestion.module';
import { ParserPool } from './parsing/parser-pool';
import type { DocumentParser } from './parsing/types';
import { UnstructuredParser } from './parsing/unstructured';
import { IngestionPipeline } from './pipeline/pipeline';

export const DOCUMENT_PARSER = Symbol('QUARRY_DOCUMENT_PARSER');

/** Unstructured when its API is configured (scans, hi-res layouts); else the built-in parsers in worker threads. */
function createParser(config: IngestionWorkerConfig): DocumentParser {
  if (config.UNSTRUCTURED_API_URL) {
    return new UnstructuredParser({
      serverURL: config.UNSTRUCTURED_API_URL,
      strategy: config.UNSTRUCTURED_STRATEGY,
      ...(config.UNSTRUCTURED_API_KEY ? { apiKey: config.UNSTRUCTURED_API_KEY } : {}),
    });
  }
  return new ParserPool({
    maxThreads: config.PARSE_THREADS,
    timeoutMs: config.PARSE_TIMEOUT_MS,
    maxMemoryMb: config.PARSE_MAX_MEMORY_MB,
    maxInputBytes: config.UPLOAD_MAX_BYTES,
  });
}

/** The worker side of ingestion: parsers, embedding models and the pipeline. CONFIG must include the worker and embedding settings. */
@Module({
  imports: [IngestionModule, MeteringModule],
  providers: [
    threadedEmbeddingProvidersFactory,
    { provide: DOCUMENT_PARSER, inject: [CONFIG], useFactory: createParser },
    {
      provide: IngestionPipeline,
      inject: [CONFIG, Database, DocumentsService, CollectionsService, OBJECT_STORAGE, DOCUMENT_PARSER, EmbeddingProviders, UsageWriter, DocumentEventPublisher],
      useFactory: (
        config: IngestionWorkerConfig,
        db: Database,
        documents: DocumentsService,
        collections: CollectionsService,
        storage: ObjectStorage,
        parser: DocumentParser,
        models: EmbeddingProviders,
        usage: UsageWriter,
        events: DocumentEventPublisher,
      ) =>
        new IngestionPipeline({
          db,
          documents,
          collections,
          storage,
          parser,
          models,
          usage,
          events,
          settings: {
            embedBatchSize: config.EMBED_BATCH_SIZE,
            embedBatchWaitMs: config.EMBED_BATCH_WAIT_MS,
            urlFetchTimeoutMs: config.URL_FETCH_TIMEOUT_MS,
            allowPrivateHosts: config.URL_ALLOW_PRIVATE_HOSTS,
          },
        }),
    },
  ],
  exports: [IngestionPipeline, EmbeddingProviders, IngestionModule, DOCUMENT_PARSER],
})
export class PipelineModule implements OnModuleDestroy {
  constructor(
    @Inject(DOCUMENT_PARSER) private readonly parser: DocumentParser,
    private readonly models: EmbeddingProviders,
  ) {}

  async onModuleDestroy(): Promise<void> {
    if (this.parser instanceof ParserPool) await this.parser.close();
    for (const provider of this.models.all()) {
      if (provider instanceof ThreadedUseLiteEmbeddingProvider) await provider.close();
    }
  }
}
