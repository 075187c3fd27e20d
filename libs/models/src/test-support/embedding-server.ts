import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  authorization: string | undefined;
  body: { model?: unknown; input?: unknown; encoding_format?: unknown; dimensions?: unknown };
}

/** Decides how the n-th request (0-based) is answered. */
export type EmbeddingHandler = (request: ReceivedRequest, response: ServerResponse, index: number) => void | Promise<void>;

/**
 * A real HTTP server on a free port, recording every request and how many were in flight at once.
 * Tests give it a handler that computes real embeddings, or one that misbehaves on purpose.
 */
export class EmbeddingTestServer {
  readonly requests: ReceivedRequest[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private started = 0;

  private readonly server: Server;
  private constructor(handler: EmbeddingHandler) {
    this.server = createServer((request, response) => void this.handle(handler, request, response));
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  static async start(handler: EmbeddingHandler): Promise<EmbeddingTestServer> {
    const instance = new EmbeddingTestServer(handler);
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  async close(): Promise<void> {
    // Handlers that never answer keep sockets open; close them so the test process can end.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(handler: EmbeddingHandler, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const index = this.started++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Closed by the client (timeout, abort) or by the server (end, destroy): either way no longer in flight.
    response.once('close', () => this.inFlight--);
    let raw = '';
    for await (const chunk of request) raw += String(chunk);
    const received: ReceivedRequest = {
      path: request.url ?? '',
      authorization: request.headers.authorization,
      body: JSON.parse(raw) as ReceivedRequest['body'],
    };
    this.requests.push(received);
    try {
      await handler(received, response, index);
    } catch (error) {
      response.writeHead(599).end(String(error));
    }
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
