import { abortReason } from '@quarry/core';
import type { ChatHistoryItem } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { BUNDLED_MODEL } from './bundled-model';
import { EventChannel } from './event-channel';
import {
  GenerationError,
  type ChatMessage,
  type FinishReason,
  type GenerationEvent,
  type GenerationProvider,
  type GenerationRequest,
  type GenerationResult,
} from './generation-provider';
import { sharedLlamaRuntime, type LlamaRuntime, type LlamaRuntimeOptions } from './llama-runtime';
import { assertValidRequest, collectStream } from './request';

export interface LlamaCppConfig extends LlamaRuntimeOptions {
  /** Name recorded in traces and usage; defaults to the bundled model's id. */
  model?: string | undefined;
  /** How long a request may wait for a free sequence before failing with 'timeout'. */
  queueTimeoutMs: number;
  /** Small quantised models loop without it; 1 disables. */
  repeatPenalty: number;
}

export const LLAMA_CPP_KIND = 'llama-cpp';

/**
 * The embedded model, in process, through node-llama-cpp. Loads on first use (once per process and
 * settings, shared by every instance), renders prompts with the model's own chat template, and runs at
 * most `concurrency` generations at once; the rest wait in a queue bounded by `queueTimeoutMs`.
 */
export class LlamaCppGenerationProvider implements GenerationProvider {
  readonly kind = LLAMA_CPP_KIND;
  readonly model: string;
  readonly contextWindow: number;

  constructor(private readonly config: LlamaCppConfig) {
    this.model = config.model ?? (config.modelPath === undefined ? BUNDLED_MODEL.id : 'local-gguf');
    this.contextWindow = config.contextSize;
  }

  async countTokens(text: string): Promise<number> {
    const runtime = await this.runtime();
    return runtime.model.tokenize(text).length;
  }

  async check(): Promise<void> {
    // Loading and tokenizing proves the weights are usable; a generation would queue behind real traffic.
    await this.countTokens('readiness check');
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    return collectStream(this.model, this.stream(request));
  }

  async *stream(request: GenerationRequest): AsyncGenerator<GenerationEvent> {
    assertValidRequest(this.model, request);
    request.signal?.throwIfAborted();
    const runtime = await this.runtime();
    const history = toChatHistory(request.messages);
    const inputTokens = promptTokens(runtime, history);
    const room = runtime.contextSize - inputTokens;
    if (room < 1) {
      throw new GenerationError(
        `Model ${this.model}: the prompt is ${inputTokens} tokens, the context window ${runtime.contextSize}`,
        { model: this.model, kind: 'context_overflow', retryable: false },
      );
    }

    // Closing the generator early (the consumer went away) stops generation like a caller's abort does.
    const stopped = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, stopped.signal]) : stopped.signal;
    const channel = new EventChannel<GenerationEvent>();
    const run = this.generateInto(runtime, history, { ...request, maxTokens: Math.min(request.maxTokens, room) }, inputTokens, signal, channel);
    try {
      yield* channel;
    } finally {
      stopped.abort();
      await run;
    }
  }

  private async generateInto(
    runtime: LlamaRuntime,
    history: ChatHistoryItem[],
    request: GenerationRequest,
    inputTokens: number,
    signal: AbortSignal,
    channel: EventChannel<GenerationEvent>,
  ): Promise<void> {
    const queueTimeout = new AbortController();
    const timer = setTimeout(
      () =>
        queueTimeout.abort(
          new GenerationError(`Model ${this.model}: no free slot within ${this.config.queueTimeoutMs} ms (all ${this.config.concurrency} busy)`, {
            model: this.model,
            kind: 'timeout',
            retryable: true,
          }),
        ),
      this.config.queueTimeoutMs,
    );
    let started = false;
    let outputTokens = 0;
    try {
      const { LlamaChat } = await import('node-llama-cpp');
      await runtime.withSequence(async (sequence) => {
        clearTimeout(timer);
        started = true;
        const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: runtime.chatWrapper });
        try {
          const response = await chat.generateResponse(history, {
            signal,
            stopOnAbortSignal: true,
            maxTokens: request.maxTokens,
            temperature: request.temperature ?? 0,
            ...(request.topP !== undefined ? { topP: request.topP } : {}),
            repeatPenalty: this.config.repeatPenalty === 1 ? false : { penalty: this.config.repeatPenalty },
            customStopTriggers: request.stop ?? [],
            onToken: (tokens) => (outputTokens += tokens.length),
            onTextChunk: (text) => {
              if (text !== '') channel.push({ type: 'delta', text });
            },
          });
          const finishReason: FinishReason = signal.aborted ? 'cancelled' : response.metadata.stopReason === 'maxTokens' ? 'length' : 'stop';
          channel.push({ type: 'done', finishReason, usage: { inputTokens, outputTokens } });
        } finally {
          chat.dispose({ disposeSequence: false });
        }
      }, AbortSignal.any([signal, queueTimeout.signal]));
      channel.end();
    } catch (error) {
      if (signal.aborted) {
        // Cancelled while queued (nothing evaluated, nothing billed) or while the prompt was evaluated.
        channel.push({ type: 'done', finishReason: 'cancelled', usage: { inputTokens: started ? inputTokens : 0, outputTokens } });
        channel.end();
      } else if (queueTimeout.signal.aborted && !started) {
        channel.fail(abortReason(queueTimeout.signal));
      } else {
        channel.fail(
          new GenerationError(`Model ${this.model}: generation failed: ${error instanceof Error ? error.message : String(error)}`, {
            model: this.model,
            kind: 'unavailable',
            retryable: true,
            partialUsage: { inputTokens, outputTokens },
            cause: error,
          }),
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async runtime(): Promise<LlamaRuntime> {
    try {
      return await sharedLlamaRuntime(this.config);
    } catch (error) {
      throw new GenerationError(`Model ${this.model} could not be loaded: ${error instanceof Error ? error.message : String(error)}`, {
        model: this.model,
        kind: 'unavailable',
        retryable: true,
        cause: error,
      });
    }
  }
}

/** The last message must be the user's turn; the template renders system and earlier turns before it. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    if (message.role === 'system') return { type: 'system', text: message.content };
    if (message.role === 'user') return { type: 'user', text: message.content };
    return { type: 'model', response: [message.content] };
  });
  history.push({ type: 'model', response: [] });
  return history;
}

/** Exactly what the model will read: the rendered template, tokenized by the model's tokenizer. */
function promptTokens(runtime: LlamaRuntime, history: ChatHistoryItem[]): number {
  const { contextText } = runtime.chatWrapper.generateContextState({ chatHistory: history });
  return contextText.tokenize(runtime.model.tokenizer).length;
}
