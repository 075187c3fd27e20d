import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stub saw of one upload. */
export interface StubUpload {
  filename: string;
  content: Buffer;
  strategy: string | null;
  apiKey: string | undefined;
}

/** How the stub answers: a status and JSON body, or 'hang' (never answer) or 'reset' (drop the connection). */
export type StubReply = { status: number; body: unknown; headers?: Record<string, string> } | 'hang' | 'reset';

/**
 * A stand-in for the remote Unstructured API, used to provoke failures (429, 5xx, resets) and check the
 * element mapping: a real HTTP server on a free local port implementing just `POST /general/v0/general`
 * with a multipart `files` upload and form fields, answering with whatever each test decides.
 */
export class UnstructuredStub {
  readonly uploads: StubUpload[] = [];
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  constructor(private readonly reply: (upload: StubUpload) => StubReply) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.url !== '/general/v0/general') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    // The platform's own multipart parser reads the form, as a real server framework would.
    const form = await new Request('http://stub/', {
      method: 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? '' },
      body: Buffer.concat(chunks),
    }).formData();
    const file = form.get('files');
    if (!(file instanceof File)) {
      response.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"files is required"}');
      return;
    }
    const apiKey = request.headers['unstructured-api-key'];
    const upload: StubUpload = {
      filename: file.name,
      content: Buffer.from(await file.arrayBuffer()),
      strategy: typeof form.get('strategy') === 'string' ? (form.get('strategy') as string) : null,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    };
    this.uploads.push(upload);
    const reply = this.reply(upload);
    if (reply === 'hang') {
      this.hanging.add(response);
      return;
    }
    if (reply === 'reset') {
      request.socket.destroy();
      return;
    }
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
  }
}
