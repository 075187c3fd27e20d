import { Injectable } from '@nestjs/common';
import type { DoneEvent } from '@quarry/chat';
import { Metrics } from '@quarry/observability';
import { Counter, Histogram } from 'prom-client';

const seconds = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

/** Chat latency, throughput, cache and cost in /metrics, by tenant and model where it matters. */
@Injectable()
export class ChatMetrics {
  private readonly ttft: Histogram<'model'>;
  private readonly overhead: Histogram<'model'>;
  private readonly latency: Histogram<'model' | 'status'>;
  private readonly tokensPerSecond: Histogram<'model'>;
  private readonly cache: Counter<'result'>;
  private readonly requests: Counter<'tenant' | 'model' | 'status'>;
  private readonly cost: Counter<'tenant' | 'model'>;
  private readonly tokens: Counter<'tenant' | 'model' | 'direction'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.ttft = new Histogram({ name: 'chat_time_to_first_token_seconds', help: 'Request start to the first generated token', labelNames: ['model'], buckets: seconds, registers });
    this.overhead = new Histogram({
      name: 'chat_overhead_seconds',
      help: 'Server time before the model is asked (retrieval, prompt assembly), without query embedding and model time',
      labelNames: ['model'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.latency = new Histogram({ name: 'chat_request_duration_seconds', help: 'End-to-end answer latency', labelNames: ['model', 'status'], buckets: seconds, registers });
    this.tokensPerSecond = new Histogram({
      name: 'chat_tokens_per_second',
      help: 'Generated tokens per second of generation',
      labelNames: ['model'],
      buckets: [1, 2, 5, 10, 20, 40, 80, 160, 320],
      registers,
    });
    this.cache = new Counter({ name: 'chat_answer_cache_total', help: 'Answer cache lookups by result (hit rate = hit / (hit + miss))', labelNames: ['result'], registers });
    this.requests = new Counter({ name: 'chat_requests_total', help: 'Answers by tenant, model and status', labelNames: ['tenant', 'model', 'status'], registers });
    this.cost = new Counter({ name: 'chat_cost_usd_total', help: 'Model cost of answers (cost per request = this / chat_requests_total)', labelNames: ['tenant', 'model'], registers });
    this.tokens = new Counter({ name: 'chat_tokens_total', help: 'Model tokens of answers', labelNames: ['tenant', 'model', 'direction'], registers });
  }

  record(tenantId: string, done: DoneEvent): void {
    const model = done.model ?? 'none';
    const { timings, usage } = done;
    this.requests.inc({ tenant: tenantId, model, status: done.status });
    this.cost.inc({ tenant: tenantId, model }, done.costUsd);
    this.tokens.inc({ tenant: tenantId, model, direction: 'input' }, usage.inputTokens);
    this.tokens.inc({ tenant: tenantId, model, direction: 'output' }, usage.outputTokens);
    this.latency.observe({ model, status: done.status }, timings.latencyMs / 1000);
    if (done.status !== 'no_answer') this.cache.inc({ result: done.cached ? 'hit' : 'miss' });
    if (done.cached || done.model === null) return;
    this.overhead.observe({ model }, timings.overheadMs / 1000);
    if (timings.timeToFirstTokenMs !== null) {
      this.ttft.observe({ model }, timings.timeToFirstTokenMs / 1000);
      const generationMs = timings.latencyMs - timings.timeToFirstTokenMs;
      if (usage.outputTokens > 1 && generationMs > 0) this.tokensPerSecond.observe({ model }, (usage.outputTokens - 1) / (generationMs / 1000));
    }
  }
}
