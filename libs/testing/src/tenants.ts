import { tenantScope, type TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { randomUUID } from 'node:crypto';
import { uniqueSuffix } from './env';

/** A fresh tenant for one test, created through the same SECURITY DEFINER function the platform API uses. */
export async function seedTenant(db: Database, label = 't'): Promise<TenantScope & { slug: string }> {
  const slug = `${label}-${uniqueSuffix()}`.toLowerCase();
  await db.unscoped((client) => client.$executeRaw`
    SELECT * FROM quarry_platform_create_tenant(${randomUUID()}::uuid, ${slug}, ${`Tenant ${slug}`})`);
  const [row] = await db.unscoped(
    (client) => client.$queryRaw<{ id: string }[]>`SELECT id FROM quarry_tenant_by_slug(${slug})`,
  );
  if (!row) throw new Error('seeded tenant not found');
  return { ...tenantScope(row.id), slug };
}
