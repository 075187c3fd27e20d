import { Module, type OnModuleDestroy } from '@nestjs/common';
import { Database } from '@quarry/db';
import { EmbeddingProviders, ThreadedUseLiteEmbeddingProvider, threadedEmbeddingProvidersFactory } from '@quarry/models';
import { Bm25Retriever } from './lexical/bm25-retriever';
import { SearchService } from './search/search.service';

/**
 * Search over chunks: BM25, dense and their fusion. Needs DbModule and a CONFIG with the embedding settings.
 * Query embeddings run on a worker thread, so a forward pass never stalls the API's event loop.
 */
@Module({
  providers: [
    threadedEmbeddingProvidersFactory,
    {
      provide: SearchService,
      inject: [Database, EmbeddingProviders],
      useFactory: (db: Database, models: EmbeddingProviders) => new SearchService(db, models, new Bm25Retriever(db)),
    },
  ],
  exports: [SearchService, EmbeddingProviders],
})
export class RetrievalModule implements OnModuleDestroy {
  constructor(private readonly models: EmbeddingProviders) {}

  async onModuleDestroy(): Promise<void> {
    for (const provider of this.models.all()) {
      if (provider instanceof ThreadedUseLiteEmbeddingProvider) await provider.close();
    }
  }
}
