export * from './audit-reader';
export * from './audit-writer';
export * from './audit.module';
