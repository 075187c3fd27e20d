import type { GenerationEvent, GenerationProvider, GenerationRequest, GenerationResult } from './generation-provider';
import { remoteGeneration, resolveRemoteSettings, type RemoteCallOptions, type RemoteProviderConfig, type ResolvedRemoteSettings } from './remote-call';
import { assertValidRequest, collectStream, estimateTokens } from './request';

/**
 * What every HTTP model provider shares: request checks, streaming and collecting through
 * `remoteGeneration` (retries, timeouts, failure mapping), estimated token counts and a one-attempt health
 * check. A subclass only says how a request becomes its server's call (`callOptions`).
 */
export abstract class RemoteGenerationProvider implements GenerationProvider {
  abstract readonly kind: string;
  readonly model: string;
  readonly contextWindow: number;
  protected readonly settings: ResolvedRemoteSettings;

  constructor(config: RemoteProviderConfig) {
    this.model = config.model;
    this.contextWindow = config.contextWindow;
    this.settings = resolveRemoteSettings(config);
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

  protected abstract callOptions(request: GenerationRequest, streaming: boolean): RemoteCallOptions;

  private async *run(request: GenerationRequest, streaming: boolean): AsyncGenerator<GenerationEvent> {
    assertValidRequest(this.model, request);
    yield* remoteGeneration(this.callOptions(request, streaming));
  }
}
