import { Module } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import { GenerationModels } from './generation-models';
import { TenantModelSettingsService } from './tenant-model-settings.service';

/** Tenants' model settings and provider chains. Needs DbModule, ClsModule and CONFIG with `generationEnvSchema`. */
@Module({ imports: [AuditModule], providers: [TenantModelSettingsService, GenerationModels], exports: [TenantModelSettingsService, GenerationModels] })
export class GenerationModule {}
