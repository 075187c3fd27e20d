import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Queues } from '@quarry/jobs';
import { Metrics } from '@quarry/observability';
import { Queue } from 'bullmq';
import { Gauge } from 'prom-client';

const states = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/** Queue depth by state, read from Redis when Prometheus scrapes. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    @InjectQueue(Queues.maintenance) private readonly maintenance: Queue,
  ) {}

  onModuleInit(): void {
    const queues = [this.maintenance];
    new Gauge({
      name: 'quarry_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.metrics.registry],
      async collect() {
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...states);
          for (const state of states) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    });
  }
}
