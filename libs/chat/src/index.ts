// Conversations, grounded answers with citations, traces, replay and the answer cache (issue #5).
export * from './answer-cache';
export * from './answer-pipeline';
export * from './chat-events';
export * from './chat.module';
export * from './chat.service';
export * from './citations';
export * from './config';
export * from './context-packing';
export * from './conversations.service';
export * from './metered-budget';
export * from './ports';
export * from './prompt-template';
export * from './query-rewriter';
export * from './relevance';
export * from './replay';
