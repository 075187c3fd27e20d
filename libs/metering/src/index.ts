export * from './metering.module';
export * from './usage-writer';
