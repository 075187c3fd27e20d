import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@quarry/observability';
import { OBJECT_STORAGE, type ObjectStorage } from '@quarry/storage';

/** Readiness covers every dependency the API calls: Postgres and Redis (registered by default), storage. */
@Injectable()
export class HealthChecks implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  onModuleInit(): void {
    this.health.register({ name: 'storage', run: () => this.storage.check() });
  }
}
