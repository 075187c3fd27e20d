import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@quarry/db';
import { createTestContext, requiredEnv, seedTenant, testConfig } from '@quarry/testing';
import { Client } from 'pg';

describe('tenant isolation: row-level security under quarry_app', () => {
  let app: INestApplicationContext;
  let db: Database;
  let tenantA: Awaited<ReturnType<typeof seedTenant>>;
  let tenantB: Awaited<ReturnType<typeof seedTenant>>;

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    tenantA = await seedTenant(db, 'rls-a');
    tenantB = await seedTenant(db, 'rls-b');
    for (const [scope, names] of [
      [tenantA, ['a1@example.com', 'a2@example.com']],
      [tenantB, ['b1@example.com']],
    ] as const) {
      await db.tenant(scope, (tx) =>
        tx.user.createMany({ data: names.map((email) => ({ tenantId: scope.tenantId, email, displayName: email })) }),
      );
    }
  });

  after(async () => {
    await app.close();
  });

  it('a query that forgets its tenant filter still sees only its own tenant’s rows', async () => {
    // Deliberately no `where: { tenantId }`: row-level security is the only thing filtering here.
    const seenByA = await db.tenant(tenantA, (tx) => tx.user.findMany());
    const seenByB = await db.tenant(tenantB, (tx) => tx.user.findMany());
    assert.deepEqual(seenByA.map((user) => user.email).sort(), ['a1@example.com', 'a2@example.com']);
    assert.deepEqual(seenByB.map((user) => user.email), ['b1@example.com']);
    assert.ok(seenByA.every((user) => user.tenantId === tenantA.tenantId));
  });

  it('raw SQL without a tenant filter is filtered too', async () => {
    const [row] = await db.tenant(tenantA, (tx) => tx.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM users`);
    assert.equal(row?.n, 2n);
  });

  it('outside any tenant scope, tenant tables return nothing (deny by default)', async () => {
    const [row] = await db.unscoped((client) => client.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM users`);
    assert.equal(row?.n, 0n);
  });

  it('cannot write a row into another tenant, nor move one there', async () => {
    await assert.rejects(
      db.tenant(tenantA, (tx) =>
        tx.user.create({ data: { tenantId: tenantB.tenantId, email: 'intruder@example.com', displayName: 'x' } }),
      ),
      /row-level security|violates/i,
    );
    const moved = await db.tenant(tenantA, (tx) =>
      tx.$executeRaw`UPDATE users SET tenant_id = ${tenantB.tenantId}::uuid WHERE email = 'a1@example.com'`,
    ).catch((error: unknown) => error);
    assert.ok(moved instanceof Error && /row-level security|violates/i.test(moved.message), 'update across tenants must fail');
  });

  it('cannot update or delete another tenant’s rows even by id', async () => {
    const [bUser] = await db.tenant(tenantB, (tx) => tx.user.findMany());
    assert.ok(bUser);
    const updated = await db.tenant(tenantA, (tx) =>
      tx.user.updateMany({ where: { id: bUser.id }, data: { displayName: 'hijacked' } }),
    );
    const deleted = await db.tenant(tenantA, (tx) => tx.user.deleteMany({ where: { id: bUser.id } }));
    assert.equal(updated.count, 0);
    assert.equal(deleted.count, 0);
    const still = await db.tenant(tenantB, (tx) => tx.user.findFirst({ where: { id: bUser.id } }));
    assert.equal(still?.displayName, 'b1@example.com');
  });

  it('the tenant scope does not leak past its transaction', async () => {
    await db.tenant(tenantA, (tx) => tx.user.count());
    const [row] = await db.unscoped(
      (client) => client.$queryRaw<{ tenant: string | null }[]>`SELECT current_setting('app.tenant_id', true) AS tenant`,
    );
    assert.ok(!row?.tenant, `expected no tenant outside the transaction, got ${String(row?.tenant)}`);
  });

  it('a nested scope for another tenant is refused', async () => {
    await assert.rejects(
      db.tenant(tenantA, () => db.tenant(tenantB, (tx) => tx.user.count())),
      /may not open another tenant/,
    );
  });

  it('audit and usage events are append-only for the application role', async () => {
    await db.tenant(tenantA, (tx) =>
      tx.auditEvent.create({ data: { tenantId: tenantA.tenantId, actorType: 'system', action: 'test.event', outcome: 'success' } }),
    );
    await assert.rejects(
      db.tenant(tenantA, (tx) => tx.auditEvent.updateMany({ data: { action: 'rewritten' } })),
      /permission denied/i,
    );
    await assert.rejects(db.tenant(tenantA, (tx) => tx.auditEvent.deleteMany()), /permission denied/i);
  });

  it('the application role owns nothing and cannot bypass RLS', async () => {
    const client = new Client({ connectionString: requiredEnv('DATABASE_URL') });
    await client.connect();
    try {
      const { rows } = await client.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: string }>(`
        SELECT r.rolsuper, r.rolbypassrls,
               (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user) AS owned
        FROM pg_roles r WHERE r.rolname = current_user`);
      assert.deepEqual(rows[0], { rolsuper: false, rolbypassrls: false, owned: '0' });
      const forced = await client.query<{ relname: string }>(`
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'
          AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`);
      assert.deepEqual(forced.rows, [], 'every table must have RLS enabled and forced');
      await assert.rejects(client.query('ALTER TABLE users DISABLE ROW LEVEL SECURITY'), /must be owner/);
      await assert.rejects(client.query('SET row_security = off; SELECT count(*) FROM users'), /row-level security/i);
    } finally {
      await client.end();
    }
  });

  it('refuses to start with a database role that would bypass RLS', async () => {
    const privileged = new Database(testConfig({ DATABASE_URL: requiredEnv('DATABASE_OWNER_URL') }));
    await assert.rejects(privileged.onModuleInit(), /bypasses row-level security/);
    await privileged.onModuleDestroy();
  });
});
