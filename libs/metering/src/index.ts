export * from './budget-alerts';
export * from './budget-settings';
export * from './metering.module';
export * from './model-budget.service';
export * from './model-prices';
export * from './periods';
export * from './usage-writer';
