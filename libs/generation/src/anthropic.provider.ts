import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, MessageParam, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import type { GenerationRequest } from './generation-provider';
import { classifyHttpFailure, estimatePromptTokens, type RemoteCallOptions, type RemoteChunk, type RemoteFailure, type RemoteProviderConfig } from './remote-call';
import { RemoteGenerationProvider } from './remote-provider';

export const ANTHROPIC_KIND = 'anthropic';

/**
 * The Anthropic Messages API (`POST /v1/messages`) through the official SDK, its retries off in favour of
 * ours. System messages become the `system` field; usage comes from message_start and message_delta.
 */
export class AnthropicGenerationProvider extends RemoteGenerationProvider {
  readonly kind = ANTHROPIC_KIND;
  /** The SDK loads on first use: requiring it costs the API's start-up time even when no tenant uses it. */
  private sdk: Promise<Anthropic> | undefined;
  private loadedErrors: typeof Anthropic | undefined;
  private readonly clientOptions: ConstructorParameters<typeof Anthropic>[0];

  constructor(config: RemoteProviderConfig) {
    super(config);
    const base = new URL(config.baseUrl);
    // The SDK appends /v1/messages to the root.
    const root = base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.clientOptions = {
      apiKey: config.apiKey ?? 'none',
      // Recent SDKs send the key as a bearer token; gateways and older servers read x-api-key. Send both.
      ...(config.apiKey ? { defaultHeaders: { 'x-api-key': config.apiKey } } : {}),
      baseURL: new URL(root || '/', base).toString().replace(/\/$/, ''),
      maxRetries: 0,
      timeout: this.settings.timeouts.connectTimeoutMs,
    };
  }

  private client(): Promise<Anthropic> {
    // The ESM build and the CommonJS types describe the same classes; only the loaded copy is ever used.
    this.sdk ??= (import('@anthropic-ai/sdk') as unknown as Promise<{ default: typeof Anthropic }>).then(({ default: AnthropicSdk }) => {
      this.loadedErrors = AnthropicSdk;
      return new AnthropicSdk(this.clientOptions);
    });
    return this.sdk;
  }

  protected callOptions(request: GenerationRequest, streaming: boolean): RemoteCallOptions {
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
      classify: (error) => classifyAnthropicError(error, this.loadedErrors),
    };
  }

  private async *openStream(body: MessageCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    const client = await this.client();
    const stream = await client.messages.create({ ...body, stream: true }, { signal });
    for await (const event of stream) yield* fromEvent(event);
  }

  private async *complete(body: MessageCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    // Headers come only with the whole answer, so the first-token limit applies, not the connect one.
    const client = await this.client();
    const message = await client.messages.create({ ...body, stream: false }, { signal, timeout: this.settings.timeouts.firstTokenTimeoutMs });
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

function classifyAnthropicError(error: unknown, sdk: typeof Anthropic | undefined): RemoteFailure {
  if (sdk && error instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout', retryable: true, detail: 'no answer before the connect timeout' };
  if (sdk && error instanceof sdk.APIError) {
    const { status, headers } = error as { status: number | undefined; headers: Headers | undefined };
    // Anthropic's own overload status.
    if (status === 529) return { ...classifyHttpFailure(503, headers, error.message), status: 529 };
    return classifyHttpFailure(status, headers, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'bad_response', retryable: true, detail: `answered with something that is not a Messages response (${message.slice(0, 200)})` };
}
