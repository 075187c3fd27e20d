import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RedisClient } from '@quarry/db';
import { documentEventsChannel, type DocumentEvent } from '@quarry/ingestion';
import { Metrics } from '@quarry/observability';
import { Gauge } from 'prom-client';
import type { Redis } from 'ioredis';

export type DocumentEventListener = (event: DocumentEvent) => void;

/**
 * One Redis subscriber connection per API process, fanned out in memory to the open event streams. A
 * tenant's channel is subscribed while at least one of its streams is open, and every event is checked
 * against the channel's tenant before it reaches a listener.
 */
@Injectable()
export class DocumentEventHub implements OnModuleDestroy {
  private readonly logger = new Logger(DocumentEventHub.name);
  private readonly listeners = new Map<string, Set<DocumentEventListener>>();
  private subscriber: Redis | null = null;

  constructor(
    private readonly redis: RedisClient,
    metrics: Metrics,
  ) {
    const listenerGauge: Gauge = new Gauge({
      name: 'quarry_event_stream_listeners',
      help: 'Open document event streams in this API process',
      registers: [metrics.registry],
      collect: () => listenerGauge.set(this.listenerCount()),
    });
    const channelGauge: Gauge = new Gauge({
      name: 'quarry_event_stream_channels',
      help: 'Tenant event channels this API process is subscribed to',
      registers: [metrics.registry],
      collect: () => channelGauge.set(this.listeners.size),
    });
  }

  listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** Starts delivering the tenant's events to `listener`; call the returned function to stop. */
  async listen(tenantId: string, listener: DocumentEventListener): Promise<() => void> {
    let set = this.listeners.get(tenantId);
    if (!set) {
      set = new Set();
      this.listeners.set(tenantId, set);
      await this.connection().subscribe(this.channel(tenantId));
    }
    set.add(listener);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.release(tenantId, listener);
    };
  }

  private release(tenantId: string, listener: DocumentEventListener): void {
    const set = this.listeners.get(tenantId);
    if (!set) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(tenantId);
    this.subscriber?.unsubscribe(this.channel(tenantId)).catch((error: unknown) => {
      this.logger.warn({ tenantId, err: String(error) }, 'Unsubscribe failed');
    });
  }

  private channel(tenantId: string): string {
    return documentEventsChannel(this.redis.prefix, tenantId);
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.client.duplicate();
    subscriber.on('error', (error: unknown) => this.logger.warn({ err: String(error) }, 'Event subscriber error'));
    subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    this.subscriber = subscriber;
    return subscriber;
  }

  private dispatch(channel: string, message: string): void {
    let event: DocumentEvent;
    try {
      event = JSON.parse(message) as DocumentEvent;
    } catch {
      return;
    }
    // The channel names the tenant; an event claiming another tenant is dropped, never delivered.
    if (channel !== this.channel(event.tenantId)) return;
    for (const listener of this.listeners.get(event.tenantId) ?? []) listener(event);
  }

  async onModuleDestroy(): Promise<void> {
    this.listeners.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
