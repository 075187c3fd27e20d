export * from './config';
export * from './errors';
export * from './local-fs.storage';
export * from './object-key';
export * from './object-storage';
export * from './s3.storage';
export * from './storage.module';
