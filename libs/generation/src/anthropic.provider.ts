import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, MessageParam, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import type { GenerationEvent, GenerationProvider, GenerationRequest, GenerationResult } from './generation-provider';
import {
  classifyHttpFailure,
  estimatePromptTokens,
  remoteGeneration,
  resolveRemoteSettings,
  type RemoteChunk,
  type RemoteFailure,
  type RemoteProviderConfig,
  type ResolvedRemoteSettings,
} from './remote-call';
import { assertValidRequest, collectStream, estimateTokens } from './request';

export const ANTHROPIC_KIND = 'anthropic';

/**
 * The Anthropic Messages API (`POST /v1/messages`) through the official SDK, its retries off in favour of
 * ours. System messages become the `system` field; usage comes from message_start and message_delta.
 */
export class AnthropicGenerationProvider implements GenerationProvider {
  readonly kind = ANTHROPIC_KIND;
  readonly model: string;
  readonly contextWindow: number;
  private readonly client: Anthropic;
  private readonly settings: ResolvedRemoteSettings;

  constructor(config: RemoteProviderConfig) {
    this.model = config.model;
    this.contextWindow = config.contextWindow;
    this.settings = resolveRemoteSettings(config);
    const base = new URL(config.baseUrl);
    // The SDK appends /v1/messages to the root.
    const root = base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.client = new Anthropic({
      apiKey: config.apiKey ?? 'none',
      // Recent SDKs send the key as a bearer token; gateways and older servers read x-api-key. Send both.
      ...(config.apiKey ? { defaultHeaders: { 'x-api-key': config.apiKey } } : {}),
      baseURL: new URL(root || '/', base).toString().replace(/\/$/, ''),
      maxRetries: 0,
      timeout: this.settings.timeouts.connectTimeoutMs,
    });
  }

  countTokens(text: string): Promise<number> {
    return Promise.resolve(estimateTokens(text));
  }

  stream(request: GenerationRequest): AsyncGenerator<GenerationEvent> {
    return this.run(request, true);
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    return collectStream(this.model, this.run(request, false));
  }

  async check(): Promise<void> {
    await collectStream(
      this.model,
      remoteGeneration({ ...this.callOptions({ messages: [{ role: 'user', content: 'ping' }], maxTokens: 1 }, false), maxAttempts: 1 }),
    );
  }

  private async *run(request: GenerationRequest, streaming: boolean): AsyncGenerator<GenerationEvent> {
    assertValidRequest(this.model, request);
    yield* remoteGeneration(this.callOptions(request, streaming));
  }

  private callOptions(request: GenerationRequest, streaming: boolean): Parameters<typeof remoteGeneration>[0] {
    const system = request.messages.filter((message) => message.role === 'system').map((message) => message.content);
    const messages: MessageParam[] = request.messages
      .filter((message) => message.role !== 'system')
      .map((message) => ({ role: message.role === 'assistant' ? 'assistant' : 'user', content: message.content }));
    const body: MessageCreateParamsBase = {
      model: this.model,
      max_tokens: request.maxTokens,
      messages,
      ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
      ...(request.temperature !== undefined ? { temperature: Math.min(1, request.temperature) } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.stop?.length ? { stop_sequences: [...request.stop] } : {}),
    };
    return {
      model: this.model,
      server: this.settings.server,
      maxAttempts: this.settings.maxAttempts,
      backoff: this.settings.backoff,
      timeouts: this.settings.timeouts,
      signal: request.signal,
      estimateInputTokens: () => estimatePromptTokens(request.messages),
      open: (signal) => (streaming ? this.openStream(body, signal) : this.complete(body, signal)),
      classify: classifyAnthropicError,
    };
  }

  private async *openStream(body: MessageCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    const stream = await this.client.messages.create({ ...body, stream: true }, { signal });
    for await (const event of stream) yield* fromEvent(event);
  }

  private async *complete(body: MessageCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    // Headers come only with the whole answer, so the first-token limit applies, not the connect one.
    const message = await this.client.messages.create({ ...body, stream: false }, { signal, timeout: this.settings.timeouts.firstTokenTimeoutMs });
    if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) throw new BadShape('no content array');
    if (typeof message.usage === 'object' && message.usage !== null) {
      yield { type: 'usage', inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
    }
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    yield { type: 'text', text };
    yield { type: 'finish', reason: message.stop_reason === 'max_tokens' ? 'length' : 'stop' };
  }
}

function* fromEvent(event: RawMessageStreamEvent): Generator<RemoteChunk> {
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') throw new BadShape('an event without a type');
  switch (event.type) {
    case 'message_start':
      yield { type: 'usage', inputTokens: event.message.usage.input_tokens };
      break;
    case 'content_block_delta':
      if (event.delta.type === 'text_delta') yield { type: 'text', text: event.delta.text };
      break;
    case 'message_delta':
      yield { type: 'usage', outputTokens: event.usage.output_tokens };
      if (event.delta.stop_reason) yield { type: 'finish', reason: event.delta.stop_reason === 'max_tokens' ? 'length' : 'stop' };
      break;
    default:
      break;
  }
}

class BadShape extends Error {}

function classifyAnthropicError(error: unknown): RemoteFailure {
  if (error instanceof Anthropic.APIConnectionTimeoutError) return { kind: 'timeout', retryable: true, detail: 'no answer before the connect timeout' };
  if (error instanceof Anthropic.APIError) {
    const { status, headers } = error as { status: number | undefined; headers: Headers | undefined };
    // Anthropic's own overload status.
    if (status === 529) return { ...classifyHttpFailure(503, headers, error.message), status: 529 };
    return classifyHttpFailure(status, headers, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'bad_response', retryable: true, detail: `answered with something that is not a Messages response (${message.slice(0, 200)})` };
}
