import {
  GenerationError,
  type GenerationEvent,
  type GenerationRequest,
  type GenerationResult,
  type TokenUsage,
} from './generation-provider';

/** Rejects what no provider could answer, before any model time is spent. */
export function assertValidRequest(model: string, request: GenerationRequest): void {
  const invalid = (message: string): GenerationError =>
    new GenerationError(`Model ${model}: ${message}`, { model, kind: 'invalid_request', retryable: false });
  if (request.messages.length === 0) throw invalid('the request has no messages');
  if (!request.messages.some((message) => message.role === 'user')) throw invalid('the request has no user message');
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) {
    throw invalid(`maxTokens must be a positive integer, got ${request.maxTokens}`);
  }
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2)) {
    throw invalid('temperature must be between 0 and 2');
  }
  if (request.topP !== undefined && !(request.topP > 0 && request.topP <= 1)) throw invalid('topP must be in (0, 1]');
}

/** `generate()` for every provider: the stream, collected. */
export async function collectStream(model: string, events: AsyncIterable<GenerationEvent>): Promise<GenerationResult> {
  let text = '';
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else return { text, finishReason: event.finishReason, usage: event.usage, model: event.model ?? model };
  }
  throw new GenerationError(`Model ${model}: the stream ended without a done event`, {
    model,
    kind: 'bad_response',
    retryable: true,
  });
}

/** A rough count for remote models whose tokenizer we do not have: ~4 characters per token for English. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

export const noUsage: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0 });
