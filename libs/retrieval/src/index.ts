export * from './dense/dense-retriever';
export * from './fusion/fusion';
export * from './lexical/bm25-retriever';
export * from './retrieval.module';
export * from './search/search-filter';
export * from './search/search-types';
export * from './search/search.service';
