import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG, type BaseConfig, type TenantScope } from '@quarry/core';
import { createPrismaClient, type PrismaClient, type TenantTx } from './prisma';

interface OpenTransaction {
  readonly tenantId: string;
  readonly tx: TenantTx;
}

/**
 * The application's only door to PostgreSQL. It connects as quarry_app, which owns nothing and is
 * subject to row-level security, so tenant data is reachable only through `tenant(scope, …)`: one
 * transaction with `app.tenant_id` set locally. Nested calls for the same tenant join the open transaction,
 * so services compose repositories atomically; a nested call for another tenant is a bug and throws.
 */
@Injectable()
export class Database implements OnModuleInit, OnModuleDestroy {
  private readonly client: PrismaClient;
  private readonly open = new AsyncLocalStorage<OpenTransaction>();
  private readonly transactionTimeoutMs: number;

  constructor(@Inject(CONFIG) config: BaseConfig) {
    this.client = createPrismaClient(config.DATABASE_URL, config.DB_POOL_MAX);
    this.transactionTimeoutMs = config.DB_TRANSACTION_TIMEOUT_MS;
  }

  async tenant<T>(scope: TenantScope, work: (tx: TenantTx) => Promise<T>): Promise<T> {
    const current = this.open.getStore();
    if (current) {
      if (current.tenantId !== scope.tenantId) {
        throw new Error('A tenant transaction may not open another tenant’s scope');
      }
      return work(current.tx);
    }
    return this.client.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT set_config('app.tenant_id', ${scope.tenantId}, true)`;
        return this.open.run({ tenantId: scope.tenantId, tx }, () => work(tx));
      },
      { timeout: this.transactionTimeoutMs, maxWait: this.transactionTimeoutMs },
    );
  }

  /**
   * Outside any tenant: only the SECURITY DEFINER functions (tenant by slug, key by prefix, …) answer
   * anything here; every tenant table returns no rows. Used by the platform and authentication lookups.
   */
  async unscoped<T>(work: (client: Pick<PrismaClient, '$queryRaw' | '$executeRaw'>) => Promise<T>): Promise<T> {
    if (this.open.getStore()) throw new Error('Unscoped queries may not run inside a tenant transaction');
    return work(this.client);
  }

  /** Refuses to run as a role that row-level security would not hold: a superuser, BYPASSRLS, or a table owner. */
  async onModuleInit(): Promise<void> {
    const [role] = await this.client.$queryRaw<{ name: string; privileged: boolean; owned: bigint }[]>`
      SELECT r.rolname AS name, (r.rolsuper OR r.rolbypassrls) AS privileged,
             (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user AND t.schemaname = 'public') AS owned
      FROM pg_roles r WHERE r.rolname = current_user`;
    if (!role || role.privileged || role.owned > 0n) {
      throw new Error(
        `DATABASE_URL connects as ${role?.name ?? 'an unknown role'}, which bypasses row-level security ` +
          '(superuser, BYPASSRLS or table owner). Use the application role (quarry_app).',
      );
    }
  }

  /** Every tenant id, in pages, for system jobs that visit each tenant in turn (under its own scope). */
  async *tenantIds(pageSize = 100): AsyncGenerator<string> {
    let after: string | null = null;
    for (;;) {
      const rows: { id: string }[] = await this.unscoped(
        (client) => client.$queryRaw<{ id: string }[]>`
          SELECT id FROM quarry_platform_list_tenants(${after}::uuid, ${pageSize}::int)`,
      );
      for (const row of rows) yield row.id;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async ping(): Promise<void> {
    await this.client.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.$disconnect();
  }
}
