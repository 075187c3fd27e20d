import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
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
export class OpenAiCompatibleGenerationProvider implements GenerationProvider {
  readonly kind = OPENAI_COMPATIBLE_KIND;
  readonly model: string;
  readonly contextWindow: number;
  private readonly client: OpenAI;
  private readonly settings: ResolvedRemoteSettings;
  private readonly streamUsage: boolean;

  constructor(config: OpenAiCompatibleGenerationConfig) {
    this.model = config.model;
    this.contextWindow = config.contextWindow;
    this.settings = resolveRemoteSettings(config);
    this.streamUsage = config.streamUsage ?? true;
    const base = new URL(config.baseUrl);
    const path = base.pathname.replace(/\/+$/, '');
    this.client = new OpenAI({
      // Self-hosted servers often need no key; the SDK insists on one, and a dummy bearer is ignored.
      apiKey: config.apiKey ?? 'none',
      baseURL: new URL(path.endsWith('/v1') ? path : `${path}/v1`, base).toString(),
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

  /** One small completion, one attempt. */
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
      classify: classifyOpenAiError,
    };
  }

  private async *openStream(body: ChatCompletionCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    const stream = await this.client.chat.completions.create(
      { ...body, stream: true, ...(this.streamUsage ? { stream_options: { include_usage: true } } : {}) },
      { signal },
    );
    for await (const chunk of stream) yield* fromChunk(chunk);
  }

  private async *complete(body: ChatCompletionCreateParamsBase, signal: AbortSignal): AsyncGenerator<RemoteChunk> {
    // Headers come only with the whole answer, so the first-token limit applies, not the connect one.
    const completion = await this.client.chat.completions.create(
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

function classifyOpenAiError(error: unknown): RemoteFailure {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'timeout', retryable: true, detail: 'no answer before the connect timeout' };
  if (error instanceof OpenAI.APIError) {
    const { status, headers } = error as { status: number | undefined; headers: Headers | undefined };
    return classifyHttpFailure(status, headers, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'bad_response', retryable: true, detail: `answered with something that is not a chat completion (${message.slice(0, 200)})` };
}
