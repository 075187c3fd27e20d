export * from './context';
export * from './env';
export * from './tenants';
export * from './ports';
