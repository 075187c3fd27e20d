import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type TenantScope } from '@quarry/core';
import { AnthropicGenerationProvider } from './anthropic.provider';
import { embeddedModelConfig, type GenerationEnv } from './config';
import { FallbackGenerationProvider } from './fallback.provider';
import type { GenerationProvider } from './generation-provider';
import { LlamaCppGenerationProvider } from './llama-cpp.provider';
import { OpenAiCompatibleGenerationProvider } from './openai-compatible.provider';
import type { RemoteProviderConfig } from './remote-call';
import { TenantModelSettingsService, type TenantModelSecretView } from './tenant-model-settings.service';
import type { ModelParams, TenantModelView } from './tenant-models';

/** What a tenant generates with: the chain (primary first) and each model's settings in the same order. */
export interface TenantGeneration {
  chain: FallbackGenerationProvider;
  /** The configured models, or the embedded default's description when none is configured. */
  models: TenantModelView[];
}

/**
 * Builds a tenant's provider chain from its stored configuration on every call (one small query; no cache
 * to go stale across API instances). The embedded llama.cpp model is shared by the whole process and is
 * the chain when a tenant configured nothing.
 */
@Injectable()
export class GenerationModels {
  readonly embedded: LlamaCppGenerationProvider;
  private readonly fallbackFirstTokenMs: number | undefined;

  constructor(
    private readonly settings: TenantModelSettingsService,
    @Inject(CONFIG) config: GenerationEnv,
  ) {
    this.embedded = new LlamaCppGenerationProvider(embeddedModelConfig(config));
    this.fallbackFirstTokenMs = config.GENERATION_FALLBACK_FIRST_TOKEN_MS;
  }

  async forTenant(scope: TenantScope): Promise<TenantGeneration> {
    const stored = await this.settings.listWithSecrets(scope);
    if (stored.length === 0) {
      return { chain: new FallbackGenerationProvider([this.embedded]), models: [this.embeddedView()] };
    }
    return {
      chain: new FallbackGenerationProvider(
        stored.map((model) => this.build(model)),
        { firstTokenTimeoutMs: this.fallbackFirstTokenMs },
      ),
      models: stored.map(({ apiKey: _key, ...view }) => view),
    };
  }

  embeddedView(): TenantModelView {
    return {
      name: 'embedded',
      kind: 'llama-cpp',
      baseUrl: null,
      model: this.embedded.model,
      contextWindow: this.embedded.contextWindow,
      params: {},
      hasApiKey: false,
    };
  }

  private build(model: TenantModelSecretView): GenerationProvider {
    if (model.kind === 'llama-cpp') return this.embedded;
    const config: RemoteProviderConfig = {
      baseUrl: model.baseUrl ?? '',
      apiKey: model.apiKey,
      model: model.model,
      contextWindow: model.contextWindow,
      maxAttempts: model.params.maxAttempts,
      timeouts: timeoutsOf(model.params),
    };
    return model.kind === 'anthropic'
      ? new AnthropicGenerationProvider(config)
      : new OpenAiCompatibleGenerationProvider({ ...config, streamUsage: model.params.streamUsage });
  }
}

function timeoutsOf(params: ModelParams): RemoteProviderConfig['timeouts'] {
  const timeouts: NonNullable<RemoteProviderConfig['timeouts']> = {};
  if (params.connectTimeoutMs !== undefined) timeouts.connectTimeoutMs = params.connectTimeoutMs;
  if (params.firstTokenTimeoutMs !== undefined) timeouts.firstTokenTimeoutMs = params.firstTokenTimeoutMs;
  if (params.idleTimeoutMs !== undefined) timeouts.idleTimeoutMs = params.idleTimeoutMs;
  if (params.totalTimeoutMs !== undefined) timeouts.totalTimeoutMs = params.totalTimeoutMs;
  return timeouts;
}
