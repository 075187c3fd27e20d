import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, ErrorCode, type Principal, type TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { z } from 'zod';
import { searchSettingsSchema, type SearchSettings } from './search-settings';

/**
 * A tenant's search settings: fusion and reranking for every collection of the tenant that does not set
 * its own. Stored in tenant_search_settings (RLS); no row means the deployment's defaults.
 */
@Injectable()
export class TenantSearchSettingsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  async get(scope: TenantScope): Promise<SearchSettings> {
    const row = await this.db.tenant(scope, (tx) => tx.tenantSearchSettings.findUnique({ where: { tenantId: scope.tenantId } }));
    // Validated on write; parsing again drops nothing and fills what later versions add.
    return row ? searchSettingsSchema.parse(row.settings) : {};
  }

  /** Replaces the tenant's settings (an empty object returns it to the deployment's defaults). */
  async put(principal: Principal, input: unknown): Promise<SearchSettings> {
    const parsed = searchSettingsSchema.safeParse(input);
    if (!parsed.success) throw new AppError(400, ErrorCode.ValidationFailed, 'Invalid search settings', z.treeifyError(parsed.error));
    const settings = parsed.data;
    await this.db.tenant(principal, async (tx) => {
      const value = settings as Prisma.InputJsonObject;
      await tx.tenantSearchSettings.upsert({
        where: { tenantId: principal.tenantId },
        create: { tenantId: principal.tenantId, settings: value },
        update: { settings: value },
      });
      await this.audit.record(principal, {
        action: 'search_settings.update',
        outcome: 'success',
        target: { type: 'tenant', id: principal.tenantId },
        metadata: { settings },
      });
    });
    return settings;
  }
}
