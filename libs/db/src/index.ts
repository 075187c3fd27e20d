export * from './database';
export * from './db.module';
export * from './errors';
export * from './prisma';
export * from './redis';
export * from './migrate/bootstrap';
export * from './migrate/migrations';
export * from './migrate/vector-index';
