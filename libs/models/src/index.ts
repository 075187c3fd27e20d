export * from './embedding-provider';
export type { InstructionPrefixes } from './embedding-input';
export { dot, l2Normalize } from './vectors';
export * from './use-lite.provider';
export * from './transformers.provider';
export * from './openai-compatible.provider';
export type { BackoffPolicy } from './retry';
export * from './config';
export * from './registry';
