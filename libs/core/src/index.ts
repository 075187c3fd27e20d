export * from './actor';
export * from './config';
export * from './errors';
export * from './logging';
export * from './pagination';
export * from './request-context';
export * from './tenant-scope';
export * from './public-route';
