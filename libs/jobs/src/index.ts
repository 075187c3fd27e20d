export * from './bullmq-connection';
export * from './job-contract';
export * from './job-producer';
export * from './queues';
export * from './eval-jobs';
