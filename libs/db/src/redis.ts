import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type BaseConfig } from '@quarry/core';
import { Redis } from 'ioredis';

/**
 * One shared Redis connection per process for rate limits, health and caches. BullMQ opens its own
 * (blocking) connections from the same URL. `maxRetriesPerRequest: null` lets commands wait out a
 * restart instead of failing after a fixed number of retries; callers put their own timeouts on top.
 */
@Injectable()
export class RedisClient implements OnModuleDestroy {
  readonly client: Redis;
  readonly prefix: string;

  constructor(@Inject(CONFIG) config: BaseConfig) {
    this.client = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    // Errors surface through health checks and the commands that fail; an unhandled 'error' event would crash.
    this.client.on('error', () => undefined);
    this.prefix = config.REDIS_PREFIX;
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async ping(): Promise<void> {
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${String(reply)}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
