import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import type { GenerationRequest } from './generation-provider';
import { classifyHttpFailure, estimatePromptTokens, type RemoteCallOptions, type RemoteChunk, type RemoteFailure, type RemoteProviderConfig } from './remote-call';
import { RemoteGenerationProvider } from './remote-provider';

export interface OpenAiCompatibleGenerationConfig extends RemoteProviderConfig {
  /**
   * Ask for usage in the stream (`stream_options.include_usage`). On by default: OpenAI, vLLM, llama.cpp
   * server and Ollama support it; turn it off for servers that reject the field (usage is then estimated).
   */
  streamUsage?: boolean | undefined;
}

export const OPENAI_COMPATIBLE_KIND = 'openai-compatible';

/**
 * `POST /v1/chat/completions` as served by OpenAI, Together and Groq and by the self-hosted GPU servers
 * that copy it (vLLM, TGI, Ollama, llama.cpp server), through the official SDK with its own retries off:
 * ours (remoteGeneration) add first-token and stall timeouts and never retry after text was streamed.
 */
export class OpenAiCompatibleGenerationProvider extends RemoteGenerationProvider {
  readonly kind = OPENAI_COMPATIBLE_KIND;
  /** The SDK loads on first use: requiring it costs the API's start-up time even when no tenant uses it. */
  private sdk: Promise<{ client: OpenAI; errors: typeof OpenAI }> | undefined;
  private readonly clientOptions: ConstructorParameters<typeof OpenAI>[0];
  private readonly streamUsage: boolean;

  constructor(config: OpenAiCompatibleGenerationConfig) {
    super(config);
    this.streamUsage = config.streamUsage ?? true;
    const base = new URL(config.baseUrl);
    const path = base.pathname.replace(/\/+$/, '');
    this.clientOptions = {
      // Self-hosted servers often need no key; the SDK insists on one, and a dummy bearer is ignored.
      apiKey: config.apiKey ?? 'none',
      baseURL: new URL(path.endsWith('/v1') ? path : `${path}/v1`, base).toString(),
      maxRetries: 0,
      timeout: this.settings.timeouts.connectTimeoutMs,
    };
  }

  protected callOptions(request: GenerationRequest, streaming: boolean): RemoteCallOptions {
    const body: ChatCompletionCreateParamsBase = {
      model: this.model,
      messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
      max_tokens: request.maxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.stop?.length ? { stop: [...request.stop] } : {}),
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
      classify: (error) => classifyOpenAiError(error, this.loadedErrors),
    };
  }

  private loadedErrors: typeof OpenAI | undefined;

  private client(): Promise<OpenAI> {
    // The ESM build and the CommonJS types describe the same classes; only the loaded copy is ever used.
    this.sdk ??= (import('openai') as unknown as Promise<{ default: typeof OpenAI }>).then(({ default: OpenAiSdk }) => {
      this.loadedErrors = OpenAiSdk;
      return { client: new OpenAiSdk(this.clientOptions), errors: OpenAiSdk };
    });
    return this.sdk.then(({ client }) => client);
  }

  private async *openStream(body: ChatCompletionCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    const client = await this.client();
    const stream = await client.chat.completions.create(
      { ...body, stream: true, ...(this.streamUsage ? { stream_options: { include_usage: true } } : {}) },
      { signal },
    );
    for await (const chunk of stream) yield* fromChunk(chunk);
  }

  private async *complete(body: ChatCompletionCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    // Headers come only with the whole answer, so the first-token limit applies, not the connect one.
    const client = await this.client();
    const completion = await client.chat.completions.create(
      { ...body, stream: false },
      { signal, timeout: this.settings.timeouts.firstTokenTimeoutMs },
    );
    const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
    if (!choice || typeof choice.message !== 'object' || choice.message === null) throw new BadShape('no choices[0].message');
    if (completion.usage) {
      yield { type: 'usage', inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens };
    }
    yield { type: 'text', text: choice.message.content ?? '' };
    yield { type: 'finish', reason: choice.finish_reason === 'length' ? 'length' : 'stop' };
  }
}

function* fromChunk(chunk: ChatCompletionChunk): Generator<RemoteChunk> {
  if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) throw new BadShape('a chunk without choices');
  if (chunk.usage) yield { type: 'usage', inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
  const choice = chunk.choices[0];
  if (!choice) return;
  if (typeof choice.delta?.content === 'string') yield { type: 'text', text: choice.delta.content };
  if (choice.finish_reason) yield { type: 'finish', reason: choice.finish_reason === 'length' ? 'length' : 'stop' };
}

class BadShape extends Error {}

function classifyOpenAiError(error: unknown, sdk: typeof OpenAI | undefined): RemoteFailure {
  if (sdk && error instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout', retryable: true, detail: 'no answer before the connect timeout' };
  if (sdk && error instanceof sdk.APIError) {
    const { status, headers } = error as { status: number | undefined; headers: Headers | undefined };
    return classifyHttpFailure(status, headers, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'bad_response', retryable: true, detail: `answered with something that is not a chat completion (${message.slice(0, 200)})` };
}
