import type { FactoryProvider } from '@nestjs/common';
import { CONFIG } from '@quarry/core';
import { embeddingSettings, type EmbeddingEnv, type EmbeddingSettings } from './config';
import { EmbeddingError, type EmbeddingProvider } from './embedding-provider';
import { OpenAiCompatibleEmbeddingProvider } from './openai-compatible.provider';
import { TransformersEmbeddingProvider } from './transformers.provider';
import { ThreadedUseLiteEmbeddingProvider } from './threaded-use-lite.provider';
import { UseLiteEmbeddingProvider } from './use-lite.provider';

/**
 * The embedding models this process can use, by the id recorded with each chunk. Ingestion embeds with
 * a collection's model; retrieval must embed the query with the very same one, hence lookup by id.
 */
export class EmbeddingProviders {
  private readonly byModel = new Map<string, EmbeddingProvider>();
  private readonly defaultModel: string;

  constructor(providers: readonly EmbeddingProvider[], defaultModel: string) {
    for (const provider of providers) {
      if (this.byModel.has(provider.model)) throw new Error(`Two embedding providers claim the model id "${provider.model}"`);
      this.byModel.set(provider.model, provider);
    }
    if (!this.byModel.has(defaultModel)) {
      throw new Error(`The default embedding model "${defaultModel}" is not among the configured ones (${this.models.join(', ')})`);
    }
    this.defaultModel = defaultModel;
  }

  /** Builds every configured provider. Nothing loads yet; a local model's directory is checked now. */
  /** `threaded`: run the embedded model on a worker thread (for processes that do other work meanwhile). */
  static fromSettings(settings: EmbeddingSettings, options: { threaded?: boolean } = {}): EmbeddingProviders {
    const useLite = options.threaded ? new ThreadedUseLiteEmbeddingProvider(settings.useLite) : new UseLiteEmbeddingProvider(settings.useLite);
    const providers: EmbeddingProvider[] = [useLite];
    if (settings.openAiCompatible) providers.push(new OpenAiCompatibleEmbeddingProvider(settings.openAiCompatible));
    if (settings.transformers) providers.push(new TransformersEmbeddingProvider(settings.transformers));
    return new EmbeddingProviders(providers, settings.defaultModel);
  }

  get models(): string[] {
    return [...this.byModel.keys()];
  }

  /** Throws (not retryable) for an id this deployment does not serve, e.g. a collection's old model. */
  get(model: string): EmbeddingProvider {
    const provider = this.byModel.get(model);
    if (!provider) {
      throw new EmbeddingError(
        `Embedding model "${model}" is not configured in this deployment (configured: ${this.models.join(', ')})`,
        { model, retryable: false },
      );
    }
    return provider;
  }

  default(): EmbeddingProvider {
    return this.get(this.defaultModel);
  }

  all(): EmbeddingProvider[] {
    return [...this.byModel.values()];
  }
}

/**
 * For a NestJS module: `providers: [embeddingProvidersFactory]`, then inject `EmbeddingProviders`.
 * Reads the app's validated config (whose schema includes `embeddingEnvSchema.shape`) under CONFIG.
 */
export const embeddingProvidersFactory: FactoryProvider<EmbeddingProviders> = {
  provide: EmbeddingProviders,
  inject: [CONFIG],
  useFactory: (config: EmbeddingEnv) => EmbeddingProviders.fromSettings(embeddingSettings(config)),
};

/** The same, with the embedded model on its own thread: for the ingestion worker. */
export const threadedEmbeddingProvidersFactory: FactoryProvider<EmbeddingProviders> = {
  provide: EmbeddingProviders,
  inject: [CONFIG],
  useFactory: (config: EmbeddingEnv) => EmbeddingProviders.fromSettings(embeddingSettings(config), { threaded: true }),
};
