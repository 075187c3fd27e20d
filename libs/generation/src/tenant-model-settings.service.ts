import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, CONFIG, ErrorCode, SecretBox, type Principal, type TenantScope } from '@quarry/core';
import { Database, type TenantModelModel } from '@quarry/db';
import type { GenerationEnv } from './config';
import { modelParamsSchema, type ModelKind, type TenantModelInput, type TenantModelView } from './tenant-models';

/** A stored model with its key opened: only for building providers, never for a response. */
export interface TenantModelSecretView extends TenantModelView {
  apiKey: string | undefined;
}

/** A tenant's model configurations: read, replaced as a whole (order matters), keys sealed at rest. */
@Injectable()
export class TenantModelSettingsService {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
    @Inject(CONFIG) config: GenerationEnv,
  ) {
    this.box = new SecretBox(config.SECRETS_KEY);
  }

  async list(scope: TenantScope): Promise<TenantModelView[]> {
    const rows = await this.rows(scope);
    return rows.map(toView);
  }

  /** For the registry: views with their keys opened. */
  async listWithSecrets(scope: TenantScope): Promise<TenantModelSecretView[]> {
    const rows = await this.rows(scope);
    return rows.map((row) => ({
      ...toView(row),
      apiKey: row.apiKeySealed === null ? undefined : this.box.open(row.apiKeySealed, sealedFor(row.tenantId, row.name)),
    }));
  }

  /** Replaces the tenant's list in one transaction; an empty list returns the tenant to the embedded default. */
  async replace(principal: Principal, inputs: readonly TenantModelInput[]): Promise<TenantModelView[]> {
    const names = inputs.map((input) => input.name);
    const repeated = names.filter((name, index) => names.indexOf(name) !== index);
    if (repeated.length > 0) {
      throw new AppError(400, ErrorCode.ValidationFailed, `Model names must be unique; repeated: ${[...new Set(repeated)].join(', ')}`);
    }
    const views = await this.db.tenant(principal, async (tx) => {
      const before = await tx.tenantModel.findMany({ where: { tenantId: principal.tenantId }, orderBy: { position: 'asc' } });
      const keptKeys = new Map(before.map((row) => [row.name, row.apiKeySealed]));
      await tx.tenantModel.deleteMany({ where: { tenantId: principal.tenantId } });
      const created: TenantModelModel[] = [];
      for (const [position, input] of inputs.entries()) {
        const sealed =
          input.apiKey === undefined
            ? (keptKeys.get(input.name) ?? null)
            : input.apiKey === null
              ? null
              : this.box.seal(input.apiKey, sealedFor(principal.tenantId, input.name));
        created.push(
          await tx.tenantModel.create({
            data: {
              tenantId: principal.tenantId,
              name: input.name,
              kind: input.kind,
              baseUrl: input.kind === 'llama-cpp' ? null : (input.baseUrl ?? null),
              model: input.model,
              contextWindow: input.contextWindow,
              params: input.params ?? {},
              apiKeySealed: input.kind === 'llama-cpp' ? null : sealed,
              position,
            },
          }),
        );
      }
      return { before: before.map(toView), after: created.map(toView) };
    });
    await this.audit.record(principal, {
      action: 'settings.models.update',
      outcome: 'success',
      target: { type: 'tenant', id: principal.tenantId },
      // Names, kinds and order only: no URLs' credentials, never keys.
      metadata: {
        from: views.before.map((view) => `${view.name} (${view.kind})`),
        to: views.after.map((view) => `${view.name} (${view.kind})`),
        keysChanged: inputs.filter((input) => input.apiKey !== undefined).map((input) => input.name),
      },
    });
    return views.after;
  }

  private rows(scope: TenantScope): Promise<TenantModelModel[]> {
    return this.db.tenant(scope, (tx) => tx.tenantModel.findMany({ where: { tenantId: scope.tenantId }, orderBy: { position: 'asc' } }));
  }
}

/** Associated data of a sealed key: a ciphertext opens only in the row (tenant, name) it was sealed for. */
function sealedFor(tenantId: string, name: string): string {
  return `tenant-model:${tenantId}:${name}`;
}

function toView(row: TenantModelModel): TenantModelView {
  const params = modelParamsSchema.safeParse(row.params);
  return {
    name: row.name,
    kind: row.kind as ModelKind,
    baseUrl: row.baseUrl,
    model: row.model,
    contextWindow: row.contextWindow,
    params: params.success ? params.data : {},
    hasApiKey: row.apiKeySealed !== null,
  };
}
