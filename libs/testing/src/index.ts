export * from './context';
export * from './env';
export * from './tenants';
export * from './ports';
export * from './model-server';
export * from './model-server-process';
