import { Module } from '@nestjs/common';
import { Database } from '@quarry/db';
import { EmbeddingProviders, embeddingProvidersFactory } from '@quarry/models';
import { Bm25Retriever } from './lexical/bm25-retriever';
import { SearchService } from './search/search.service';

/** Search over chunks: BM25, dense and their fusion. Needs DbModule and a CONFIG with the embedding settings. */
@Module({
  providers: [
    embeddingProvidersFactory,
    {
      provide: SearchService,
      inject: [Database, EmbeddingProviders],
      useFactory: (db: Database, models: EmbeddingProviders) => new SearchService(db, models, new Bm25Retriever(db)),
    },
  ],
  exports: [SearchService, EmbeddingProviders],
})
export class RetrievalModule {}
