import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { GenerationModels } from '@quarry/generation';
import { HealthRegistry } from '@quarry/observability';
import { OBJECT_STORAGE, type ObjectStorage } from '@quarry/storage';

/**
 * Readiness covers every dependency the API calls: Postgres and Redis (registered by default), storage,
 * and the embedded generation model (every tenant's default), which starts loading at boot.
 */
@Injectable()
export class HealthChecks implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly generation: GenerationModels,
  ) {}

  onModuleInit(): void {
    this.health.register({ name: 'storage', run: () => this.storage.check() });
    this.health.register({ name: 'generation', run: () => this.generation.embedded.check() });
    // Load now rather than on the first question; until loaded, readiness reports the model as not ready.
    this.generation.embedded.check().catch(() => undefined);
  }
}
