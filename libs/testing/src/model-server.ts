import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LlamaCppGenerationProvider, type GenerationProvider, type GenerationRequest } from '@quarry/generation';

/**
 * A model server for tests and benchmarks, speaking OpenAI `/v1/chat/completions` and Anthropic
 * `/v1/messages`, streamed or not, with usage.
 *
 * - real:  answers from the bundled TinyLlama through the llama-cpp provider.
 * - paced: streams synthetic tokens at a fixed rate (load tests: the API's cost, not the model's).
 * - fault: every request fails as `fault` says.
 * Whatever the process mode, a request picks a fault through its model name, `fault:<kind>[:<arg>]`:
 *   500 | 429[:retryAfterSeconds] | garbage | empty | stall[:tokensBeforeStall] | slow[:msBeforeFirstToken]
 *   | flaky[:failuresBefore503sStop] (counted per model name) | reset (socket destroyed)
 * and `paced` as model name picks paced answers in real mode.
 *
 * Run as a process: node libs/testing/dist/model-server.js --port N --mode real|paced|fault [--fault 500]
 *   [--tokens-per-second 20] [--paced-tokens 64]
 */
export type ModelServerMode = 'real' | 'paced' | 'fault';

export interface ModelServerOptions {
  port?: number;
  mode: ModelServerMode;
  /** The fault for every request in mode 'fault', same grammar as after `fault:` in a model name. */
  fault?: string;
  tokensPerSecond?: number;
  /** Synthetic tokens per paced answer, at most the request's max tokens. */
  pacedTokens?: number;
  /** The real model; defaults to the bundled TinyLlama on 2 threads. */
  provider?: GenerationProvider;
}

export interface ReceivedModelRequest {
  path: string;
  authorization: string | undefined;
  apiKey: string | undefined;
  body: Record<string, unknown>;
}

export interface RunningModelServer {
  url: string;
  port: number;
  requests: ReceivedModelRequest[];
  close(): Promise<void>;
}

type Protocol = 'openai' | 'anthropic';

interface ParsedRequest {
  protocol: Protocol;
  model: string;
  stream: boolean;
  generation: GenerationRequest;
}

interface Answer {
  /** Text pieces in order; each is one "token". */
  pieces: AsyncIterable<string>;
  usage: () => { inputTokens: number; outputTokens: number };
  finish: () => 'stop' | 'length';
}

export function defaultModelServerProvider(): GenerationProvider {
  return new LlamaCppGenerationProvider({
    cacheDir: process.env['GENERATION_LLAMA_CACHE_DIR'] ?? join(__dirname, '../../../.quarry/models'),
    gpu: false,
    threads: 2,
    concurrency: 2,
    contextSize: 2048,
    queueTimeoutMs: 300_000,
    repeatPenalty: 1.1,
  });
}

export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  const requests: ReceivedModelRequest[] = [];
  const flakyCounts = new Map<string, number>();
  let provider = options.provider;
  const real = (): GenerationProvider => (provider ??= defaultModelServerProvider());

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: error instanceof Error ? error.message : String(error), type: 'server_error' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok', mode: options.mode });
    const protocol: Protocol | undefined =
      path === '/v1/chat/completions' ? 'openai' : path === '/v1/messages' ? 'anthropic' : undefined;
    if (req.method !== 'POST' || !protocol) return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    requests.push({
      path,
      authorization: header(req, 'authorization'),
      apiKey: header(req, 'x-api-key'),
      body,
    });
    const parsed = parseRequest(protocol, body);
    if (typeof parsed === 'string') return sendJson(res, 400, { error: { message: parsed, type: 'invalid_request_error' } });

    const fault = parsed.model.startsWith('fault:') ? parsed.model.slice('fault:'.length) : options.mode === 'fault' ? (options.fault ?? '500') : undefined;
    const [kind, arg] = (fault ?? '').split(':');
    const number = (fallback: number): number => (arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : fallback);
    const abort = new AbortController();
    res.on('close', () => abort.abort());

    switch (kind) {
      case '500':
        return sendJson(res, 500, { error: { message: 'injected server error', type: 'server_error' } });
      case '429':
        res.setHeader('retry-after', String(number(1)));
        return sendJson(res, 429, { error: { message: 'injected rate limit', type: 'rate_limit_error' } });
      case 'flaky': {
        const seen = flakyCounts.get(parsed.model) ?? 0;
        flakyCounts.set(parsed.model, seen + 1);
        if (seen < number(1)) return sendJson(res, 503, { error: { message: `injected failure ${seen + 1}`, type: 'overloaded_error' } });
        break;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'garbage':
        if (parsed.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(`${protocol === 'anthropic' ? 'event: content_block_delta\n' : ''}data: {"choices": [ this is not json\n\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"id": "x", "choices": [ not json');
        }
        return;
      case 'empty':
        if (parsed.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(protocol === 'openai' ? 'data: [DONE]\n\n' : '');
          return;
        }
        return sendAnswer(res, parsed, synthetic(parsed, 0, 1_000), abort.signal);
      default:
        break;
    }

    const paced = options.mode === 'paced' || parsed.model === 'paced' || kind === 'stall' || kind === 'slow';
    let answer: Answer = paced
      ? synthetic(parsed, Math.min(parsed.generation.maxTokens, options.pacedTokens ?? 64), options.tokensPerSecond ?? 20)
      : fromProvider(real(), parsed.generation, abort.signal);
    if (kind === 'stall') answer = stallAfter(answer, number(3), abort.signal);
    if (kind === 'slow') answer = delayed(answer, number(2_000), abort.signal);
    await sendAnswer(res, parsed, answer, abort.signal);
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseRequest(protocol: Protocol, body: Record<string, unknown>): ParsedRequest | string {
  const model = body['model'];
  const messages = body['messages'];
  const maxTokens = body['max_tokens'] ?? (protocol === 'openai' ? 256 : undefined);
  if (typeof model !== 'string' || model === '') return 'model is required';
  if (!Array.isArray(messages) || messages.length === 0) return 'messages must be a non-empty array';
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) return 'max_tokens must be a positive integer';
  const chat: GenerationRequest['messages'][number][] = [];
  if (protocol === 'anthropic' && typeof body['system'] === 'string') chat.push({ role: 'system', content: body['system'] });
  for (const message of messages as unknown[]) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if ((role !== 'system' && role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
      return 'each message needs a role (system, user, assistant) and string content';
    }
    chat.push({ role, content });
  }
  const stop = protocol === 'openai' ? body['stop'] : body['stop_sequences'];
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((item): item is string => typeof item === 'string') : [];
  return {
    protocol,
    model,
    stream: body['stream'] === true,
    generation: {
      messages: chat,
      maxTokens,
      stop: stops,
      ...(typeof body['temperature'] === 'number' ? { temperature: body['temperature'] } : {}),
    },
  };
}

function fromProvider(provider: GenerationProvider, request: GenerationRequest, signal: AbortSignal): Answer {
  let usage = { inputTokens: 0, outputTokens: 0 };
  let finish: 'stop' | 'length' = 'stop';
  return {
    pieces: (async function* () {
      for await (const event of provider.stream({ ...request, signal })) {
        if (event.type === 'delta') yield event.text;
        else {
          usage = event.usage;
          finish = event.finishReason === 'length' ? 'length' : 'stop';
        }
      }
    })(),
    usage: () => usage,
    finish: () => finish,
  };
}

const words = ['The', ' answer', ' is', ' in', ' the', ' passages', ' above', ',', ' as', ' cited', '.'];

function synthetic(request: ParsedRequest, tokens: number, tokensPerSecond: number): Answer {
  const inputTokens = request.generation.messages.reduce((sum, message) => sum + Math.ceil(message.content.length / 4) + 4, 0);
  let sent = 0;
  return {
    pieces: (async function* () {
      const interval = 1000 / tokensPerSecond;
      const start = Date.now();
      for (let index = 0; index < tokens; index++) {
        // Paced against the start, so a late timer does not slow the whole answer down.
        const wait = start + (index + 1) * interval - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        sent++;
        yield words[index % words.length]!;
      }
    })(),
    usage: () => ({ inputTokens, outputTokens: sent }),
    finish: () => (sent >= request.generation.maxTokens ? 'length' : 'stop'),
  };
}

/** Streams `count` pieces, then goes silent until the client gives up. */
function stallAfter(answer: Answer, count: number, signal: AbortSignal): Answer {
  return {
    ...answer,
    pieces: (async function* () {
      let sent = 0;
      for await (const piece of answer.pieces) {
        if (sent === count) break;
        sent++;
        yield piece;
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    })(),
  };
}

function delayed(answer: Answer, ms: number, signal: AbortSignal): Answer {
  return {
    ...answer,
    pieces: (async function* () {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      yield* answer.pieces;
    })(),
  };
}

async function sendAnswer(res: ServerResponse, request: ParsedRequest, answer: Answer, signal: AbortSignal): Promise<void> {
  const id = `gen-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  if (!request.stream) {
    let text = '';
    for await (const piece of answer.pieces) text += piece;
    if (signal.aborted) return;
    const usage = answer.usage();
    const finish = answer.finish();
    return request.protocol === 'openai'
      ? sendJson(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model: request.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
          usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens },
        })
      : sendJson(res, 200, {
          id,
          type: 'message',
          role: 'assistant',
          model: request.model,
          content: text === '' ? [] : [{ type: 'text', text }],
          stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
        });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  const sse = (event: string | undefined, data: unknown): void => {
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  };
  const openAiChunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: request.model,
    choices: finish === 'usage' ? [] : [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  });

  if (request.protocol === 'openai') sse(undefined, openAiChunk({ role: 'assistant', content: '' }, null));
  else {
    sse('message_start', {
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model: request.model, content: [], stop_reason: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  }
  let inputReported = false;
  for await (const piece of answer.pieces) {
    if (signal.aborted) return;
    if (request.protocol === 'openai') sse(undefined, openAiChunk({ content: piece }, null));
    else {
      if (!inputReported) inputReported = true;
      sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
  }
  if (signal.aborted) return;
  const usage = answer.usage();
  const finish = answer.finish();
  if (request.protocol === 'openai') {
    sse(undefined, openAiChunk({}, finish));
    sse(undefined, openAiChunk({}, 'usage', { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens }));
    sse(undefined, '[DONE]');
  } else {
    sse('content_block_stop', { type: 'content_block_stop', index: 0 });
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn', stop_sequence: null },
      usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
    });
    sse('message_stop', { type: 'message_stop' });
  }
  res.end();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      mode: { type: 'string', default: 'real' },
      fault: { type: 'string' },
      'tokens-per-second': { type: 'string', default: '20' },
      'paced-tokens': { type: 'string', default: '64' },
    },
  });
  const mode = values.mode;
  if (mode !== 'real' && mode !== 'paced' && mode !== 'fault') throw new Error(`--mode must be real, paced or fault, got ${mode}`);
  const server = await startModelServer({
    port: Number(values.port),
    mode,
    ...(values.fault !== undefined ? { fault: values.fault } : {}),
    tokensPerSecond: Number(values['tokens-per-second']),
    pacedTokens: Number(values['paced-tokens']),
  });
  // One machine-readable line, so a parent process can find the port it asked the OS for.
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: server.url, port: server.port, mode })}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
