import type { Response } from 'express';

/**
 * Server-sent events: one `event:` line with the type and one `data:` line of JSON per event, plus a
 * heartbeat while nothing else is sent, so proxies keep the connection open during slow retrieval or generation.
 */
export class SseWriter {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: Response,
    heartbeatMs: number,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    this.heartbeat = setInterval(() => this.send({ type: 'heartbeat', at: new Date().toISOString() }), heartbeatMs);
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(event: { type: string; [field: string]: unknown }): void {
    if (!this.open) return;
    this.res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.open) this.res.end();
  }
}
