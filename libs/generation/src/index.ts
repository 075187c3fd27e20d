export * from './generation-provider';
export * from './bundled-model';
export * from './llama-cpp.provider';
export type { LlamaGpu, LlamaRuntimeOptions } from './llama-runtime';
export { collectStream, estimateTokens } from './request';
