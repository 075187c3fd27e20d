import { Injectable } from '@nestjs/common';
import { Metrics } from '@quarry/observability';
import { Counter, Gauge } from 'prom-client';

/** Model cost, tokens and budget decisions by tenant and model, and how much of its budget a tenant has used. */
@Injectable()
export class MeteringMetrics {
  readonly costUsd: Counter<'tenant' | 'model'>;
  readonly tokens: Counter<'tenant' | 'model' | 'direction'>;
  readonly decisions: Counter<'tenant' | 'action' | 'code'>;
  readonly budgetUtilisation: Gauge<'tenant' | 'metric'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.costUsd = new Counter({
      name: 'quarry_model_cost_usd_total',
      help: 'Cost of model calls in US dollars, from the price table',
      labelNames: ['tenant', 'model'],
      registers,
    });
    this.tokens = new Counter({
      name: 'quarry_model_tokens_total',
      help: 'Tokens of model calls by direction (input, output)',
      labelNames: ['tenant', 'model', 'direction'],
      registers,
    });
    this.decisions = new Counter({
      name: 'quarry_model_budget_decisions_total',
      help: 'Budget checks before model calls by outcome (allow, fallback, block) and error code',
      labelNames: ['tenant', 'action', 'code'],
      registers,
    });
    this.budgetUtilisation = new Gauge({
      name: 'quarry_budget_utilisation_ratio',
      help: "Share of the tenant's budget used in the current period (1 = 100%), by metric (tokens, cost)",
      labelNames: ['tenant', 'metric'],
      registers,
    });
  }
}
