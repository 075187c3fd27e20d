import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Credentials, Stack } from './harness';

export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/** A minimal Server-Sent Events client over fetch, recording every event it reads. */
export class EventStreamClient {
  readonly events: StreamEvent[] = [];
  private ended = false;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.read();
  }

  /** Opens the stream; a non-200 answer is returned as its status and JSON body instead. */
  static async open(stack: Stack, as: Credentials | undefined, path: string): Promise<EventStreamClient | { status: number; body: { code?: string } }> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (as && 'bearer' in as) headers.authorization = `Bearer ${as.bearer}`;
    else if (as) headers.cookie = as.cookie;
    const abort = new AbortController();
    const response = await fetch(`${stack.api.url}${path}`, { headers, signal: abort.signal });
    if (response.status !== 200) {
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as { code?: string }) : {} };
    }
    return new EventStreamClient(response, abort);
  }

  static async expectOpen(stack: Stack, as: Credentials, path: string): Promise<EventStreamClient> {
    const result = await EventStreamClient.open(stack, as, path);
    assert.ok(result instanceof EventStreamClient, `stream ${path} did not open: ${JSON.stringify(result)}`);
    return result;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const data = fields.get('data');
          if (data !== undefined) this.events.push({ event: fields.get('event') ?? 'message', data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // Aborted by close().
    } finally {
      this.ended = true;
    }
  }

  /** Waits (generously: the machine is loaded) until an event matches. */
  async waitFor(what: string, predicate: (event: StreamEvent) => boolean, timeoutMs = 180_000): Promise<StreamEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (this.ended) break;
      await sleep(100);
    }
    assert.fail(`no ${what} event on the stream; got ${JSON.stringify(this.events.map((e) => [e.event, e.data.phase, e.data.stage]))}`);
  }

  documentEvents(documentId: string): StreamEvent[] {
    return this.events.filter((event) => event.event === 'document' && event.data.documentId === documentId);
  }

  close(): void {
    this.abort.abort();
  }
}

/** A gauge's value in the API's /metrics. */
export async function apiGauge(stack: Stack, name: string): Promise<number> {
  const metrics = await stack.http.get('/metrics');
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'm').exec(metrics.text);
  assert.ok(match, `${name} is not in /metrics`);
  return Number(match[1]);
}

export async function waitForGauge(stack: Stack, name: string, wanted: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = NaN;
  while (Date.now() < deadline) {
    last = await apiGauge(stack, name);
    if (last === wanted) return;
    await sleep(200);
  }
  assert.fail(`${name} stayed ${last}, wanted ${wanted}`);
}
