import { Injectable } from '@nestjs/common';
import { AppError, decodeCursor, ErrorCode, tenantScope, toPage, type Page, type TenantScope } from '@quarry/core';
import { Database, isUniqueViolation, type TenantStatus } from '@quarry/db';
import { v7 as uuidv7 } from 'uuid';
import { UsersService, type UserView } from './users.service';

export interface TenantView {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  createdAt: string;
}

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  created_at: Date;
}

export interface CreateTenantInput {
  slug: string;
  name: string;
  owner?: { email: string; displayName: string; password: string };
}

/**
 * Tenants are the one table that sits above every tenant. The application role reaches it only through
 * narrow SECURITY DEFINER functions (create, list, find by slug) and, inside a tenant's scope, its own row.
 */
@Injectable()
export class TenantsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
  ) {}

  async create(input: CreateTenantInput): Promise<{ tenant: TenantView; owner: UserView | null }> {
    let row: TenantRow | undefined;
    try {
      [row] = await this.db.unscoped(
        (client) => client.$queryRaw<TenantRow[]>`
          SELECT * FROM quarry_platform_create_tenant(${uuidv7()}::uuid, ${input.slug}, ${input.name})`,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict(`A tenant with slug "${input.slug}" already exists`);
      throw error;
    }
    if (!row) throw new Error('tenant insert returned no row');
    const scope = tenantScope(row.id);
    const owner = input.owner ? await this.users.createBootstrapOwner(scope, input.owner) : null;
    return { tenant: toView(row), owner };
  }

  async list(limit: number, cursor?: string): Promise<Page<TenantView>> {
    const after = decodeCursor(cursor) ?? null;
    const rows = await this.db.unscoped(
      (client) => client.$queryRaw<TenantRow[]>`
        SELECT * FROM quarry_platform_list_tenants(${after}::uuid, ${limit + 1}::int)`,
    );
    return toPage(rows, limit, toView);
  }

  async findBySlug(slug: string): Promise<TenantView | null> {
    const [row] = await this.db.unscoped(
      (client) => client.$queryRaw<TenantRow[]>`
        SELECT * FROM quarry_tenant_by_slug(${slug})`,
    );
    return row ? toView(row) : null;
  }

  async current(scope: TenantScope): Promise<TenantView> {
    const tenant = await this.db.tenant(scope, (tx) => tx.tenant.findFirst({ where: { id: scope.tenantId } }));
    if (!tenant) throw AppError.notFound('Tenant');
    return { id: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status, createdAt: tenant.createdAt.toISOString() };
  }

  /** Throws unless the tenant may be used (exists and is not suspended). */
  async requireActive(scope: TenantScope): Promise<TenantView> {
    const tenant = await this.current(scope);
    if (tenant.status !== 'active') {
      throw new AppError(403, ErrorCode.TenantSuspended, 'This tenant is suspended');
    }
    return tenant;
  }
}

function toView(row: TenantRow): TenantView {
  return { id: row.id, slug: row.slug, name: row.name, status: row.status, createdAt: row.created_at.toISOString() };
}
