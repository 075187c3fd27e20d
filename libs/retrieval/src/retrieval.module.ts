import { Module, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG } from '@quarry/core';
import { Database } from '@quarry/db';
import { EmbeddingProviders, rerankEnvSchema, textRerankProviders, ThreadedUseLiteEmbeddingProvider, threadedEmbeddingProvidersFactory, type RerankEnv } from '@quarry/models';
import { Bm25Retriever } from './lexical/bm25-retriever';
import { LearnedReranker } from './rerank/learned-ranker';
import { Rerankers } from './rerank/reranker';
import { TextReranker } from './rerank/text-reranker';
import { SearchService } from './search/search.service';

/**
 * Search over chunks: BM25, dense, their fusion and reranking. Needs DbModule and a CONFIG with the embedding
 * and reranking settings. Query embeddings run on a worker thread, so a forward pass never stalls the API's
 * event loop.
 */
@Module({
  providers: [
    threadedEmbeddingProvidersFactory,
    {
      provide: Rerankers,
      inject: [Database, CONFIG],
      // Parsed here, so a process whose CONFIG left the rerank variables out still gets their defaults.
      useFactory: (db: Database, config: Partial<RerankEnv>) => {
        const rerank = rerankEnvSchema.parse(config);
        return new Rerankers([new LearnedReranker(db), ...textRerankProviders(rerank).map((provider) => new TextReranker(provider))], rerank.RERANK_DEFAULT_PROVIDER);
      },
    },
    {
      provide: SearchService,
      inject: [Database, EmbeddingProviders, Rerankers],
      useFactory: (db: Database, models: EmbeddingProviders, rerankers: Rerankers) => new SearchService(db, models, new Bm25Retriever(db), rerankers),
    },
  ],
  exports: [SearchService, EmbeddingProviders, Rerankers],
})
export class RetrievalModule implements OnModuleDestroy {
  constructor(private readonly models: EmbeddingProviders) {}

  async onModuleDestroy(): Promise<void> {
    for (const provider of this.models.all()) {
      if (provider instanceof ThreadedUseLiteEmbeddingProvider) await provider.close();
    }
  }
}
