import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EmbeddingProviders } from '@quarry/models';
import { HealthRegistry } from '@quarry/observability';
import { OBJECT_STORAGE, type ObjectStorage } from '@quarry/storage';

/** Readiness covers every dependency the worker calls: Postgres, Redis, storage, and each embedding model. */
@Injectable()
export class HealthChecks implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    private readonly models: EmbeddingProviders,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  onModuleInit(): void {
    this.health.register({ name: 'storage', run: () => this.storage.check() });
    for (const model of this.models.all()) {
      this.health.register({ name: `embedding:${model.model}`, run: () => model.check() });
    }
  }
}
