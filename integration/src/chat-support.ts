import { setTimeout as sleep } from 'node:timers/promises';
import { GenerationError, type GenerationEvent, type GenerationProvider, type GenerationRequest, type GenerationResult } from '@quarry/generation';

/** What the scripted model does on one call. */
export type Script =
  | { kind: 'answer'; deltas: string[]; delayMs?: number }
  | { kind: 'fail'; error: 'unavailable' | 'bad_response' | 'timeout'; afterDeltas?: string[] }
  | { kind: 'silent' };

/**
 * A model that plays scripts in order, honours the AbortSignal between tokens and counts one token per
 * word, so a test knows exactly what was generated and what must be billed. It stands in for the model
 * server of the generation library's test kit until that is merged here.
 */
export class ScriptedModel implements GenerationProvider {
  readonly kind = 'scripted';
  readonly requests: GenerationRequest[] = [];
  readonly scripts: Script[] = [];
  /** Deltas actually emitted by the last call (for billing assertions). */
  lastEmitted = 0;

  constructor(
    readonly model = 'scripted-1',
    readonly contextWindow = 2_048,
  ) {}

  countTokens(text: string): Promise<number> {
    return Promise.resolve(tokens(text));
  }

  async *stream(request: GenerationRequest): AsyncIterable<GenerationEvent> {
    this.requests.push(request);
    const script = this.scripts.shift() ?? { kind: 'answer', deltas: ['(no script)'] };
    const inputTokens = request.messages.reduce((sum, message) => sum + tokens(message.content), 0);
    this.lastEmitted = 0;
    if (script.kind === 'silent') {
      yield { type: 'done', finishReason: 'stop', usage: { inputTokens, outputTokens: 0 } };
      return;
    }
    const deltas = script.kind === 'answer' ? script.deltas : (script.afterDeltas ?? []);
    for (const delta of deltas) {
      if (request.signal?.aborted) {
        yield { type: 'done', finishReason: 'cancelled', usage: { inputTokens, outputTokens: this.lastEmitted } };
        return;
      }
      if (script.kind === 'answer' && script.delayMs) await sleep(script.delayMs);
      this.lastEmitted += 1;
      yield { type: 'delta', text: delta };
    }
    if (script.kind === 'fail') {
      throw new GenerationError(`${this.model}: scripted ${script.error}`, {
        model: this.model,
        kind: script.error,
        retryable: script.error !== 'bad_response',
        partialUsage: { inputTokens, outputTokens: this.lastEmitted },
      });
    }
    yield { type: 'done', finishReason: 'stop', usage: { inputTokens, outputTokens: this.lastEmitted } };
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    let text = '';
    for await (const event of this.stream(request)) {
      if (event.type === 'delta') text += event.text;
      else return { text, finishReason: event.finishReason, usage: event.usage, model: this.model };
    }
    throw new Error('stream ended without done');
  }

  check(): Promise<void> {
    return Promise.resolve();
  }
}

function tokens(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}
