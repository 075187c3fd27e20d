import type { BaseConfig } from '@quarry/core';
import type { QueueOptions } from 'bullmq';

/** BullMQ options shared by producers and workers: same Redis, same key prefix. */
export function bullRootOptions(config: BaseConfig): QueueOptions {
  const url = new URL(config.REDIS_URL);
  return {
    prefix: `${config.REDIS_PREFIX}:bull`,
    connection: {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      // Workers block on Redis; BullMQ requires unlimited retries for them.
      maxRetriesPerRequest: null,
    },
  };
}
