export * from './generation-provider';
