export * from './database';
export * from './db.module';
export * from './errors';
export * from './prisma';
export * from './redis';
