// Parsing: built-in parsers, the worker pool that runs them, the Unstructured adapter.
export * from './parsing/types';
export { detectFormat, documentFormats, parseWithBuiltIns, type DocumentFormat } from './parsing/registry';
export { parseCsv, csvRowsPerElement } from './parsing/csv-parser';
export { parseDocx } from './parsing/docx-parser';
export { parseHtml } from './parsing/html-parser';
export { parseMarkdown } from './parsing/markdown-parser';
export { parsePdf } from './parsing/pdf-parser';
export { parsePlainText } from './parsing/text-parser';
export { ParserPool, parserPoolDefaults, type ParserPoolOptions } from './parsing/parser-pool';
export { UnstructuredParser, type UnstructuredParserOptions, type UnstructuredStrategy } from './parsing/unstructured';

// Chunking.
export { canonicalText, chunkDocument, minChunkTokens, type Chunk, type ChunkOptions } from './chunking/chunker';
export { countTokens } from './chunking/tokens';

// Intake, queueing and the pipeline.
export * from './config';
export * from './events/document-events';
export * from './intake.service';
export * from './ingestion.module';
export * from './pipeline.module';
export * from './pipeline/chunk-plan';
export * from './pipeline/micro-batcher';
export * from './pipeline/pipeline';
export * from './pipeline/stage-error';
export * from './pipeline/url-fetcher';
export * from './queue/fair-scheduling';
export * from './queue/ingestion-queue';
