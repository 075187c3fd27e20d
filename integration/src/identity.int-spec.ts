import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditModule, AuditReader } from '@quarry/audit';
import { AppError, type Principal, type RequestContextStore } from '@quarry/core';
import { Database } from '@quarry/db';
import { ApiKeysService, IdentityModule, LoginService, rolePermissions, UsersService } from '@quarry/identity';
import { MeteringModule, UsageWriter } from '@quarry/metering';
import { createTestContext, seedTenant, testConfig, uniqueSuffix } from '@quarry/testing';
import { ClsService } from 'nestjs-cls';

const password = 'a long enough password';

function isAppError(code: string) {
  return (error: unknown) => error instanceof AppError && error.code === code;
}

describe('identity services against Postgres and Redis', () => {
  let app: INestApplicationContext;
  let db: Database;
  let users: UsersService;
  let login: LoginService;
  let keys: ApiKeysService;
  let cls: ClsService<RequestContextStore>;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;
  let owner: Principal;

  before(async () => {
    app = await createTestContext(
      [IdentityModule, AuditModule, MeteringModule],
      testConfig({ LOGIN_MAX_FAILURES: '2', LOGIN_LOCKOUT_SECONDS: '2', REDIS_PREFIX: `it-${uniqueSuffix()}` }),
    );
    db = app.get(Database);
    users = app.get(UsersService);
    login = app.get(LoginService);
    keys = app.get(ApiKeysService);
    cls = app.get(ClsService);
    tenant = await seedTenant(db, 'idn');
    const created = await users.createBootstrapOwner(tenant, { email: 'owner@example.com', displayName: 'Owner', password });
    owner = { ...tenant, actor: { type: 'user', id: created.id, role: 'owner', sessionId: 'n/a' }, permissions: rolePermissions('owner') };
  });

  after(async () => {
    await app.close();
  });

  it('locks an account after repeated failures, then lets it in once the lock expires', async () => {
    const attempt = (pw: string) => login.login({ tenant: tenant.slug, email: 'OWNER@example.com', password: pw }, { ip: '10.9.9.1' });
    await assert.rejects(attempt('wrong password 1'), isAppError('INVALID_CREDENTIALS'));
    await assert.rejects(attempt('wrong password 2'), isAppError('INVALID_CREDENTIALS'));
    await assert.rejects(attempt(password), (error: unknown) => {
      assert.ok(error instanceof AppError && error.code === 'ACCOUNT_LOCKED' && error.status === 429);
      assert.ok(Number(error.headers['Retry-After']) >= 1);
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const result = await attempt(password);
    assert.equal(result.user.email, 'owner@example.com');
    assert.ok(result.session.token.length >= 43);

    const audit = await app.get(AuditReader).list(tenant, { limit: 50 });
    const actions = audit.items.map((event) => `${event.action}:${event.outcome}`);
    assert.ok(actions.includes('auth.lockout:success'));
    assert.equal(actions.filter((action) => action === 'auth.login:failure').length, 3);
    assert.ok(actions.includes('auth.login:success'));
  });

  it('an API key loses what its owner’s role loses', async () => {
    const admin = await users.create(owner, { email: `admin-${uniqueSuffix()}@example.com`, displayName: 'Admin', role: 'admin' });
    const adminPrincipal: Principal = {
      ...tenant,
      actor: { type: 'user', id: admin.id, role: 'admin', sessionId: 'n/a' },
      permissions: rolePermissions('admin'),
    };
    const { token } = await keys.create(adminPrincipal, { name: 'reporting', scopes: ['users:read', 'search'] });
    assert.deepEqual([...(await keys.authenticate(token)).permissions].sort(), ['search', 'users:read']);

    await users.update(owner, admin.id, { role: 'member' });
    assert.deepEqual([...(await keys.authenticate(token)).permissions], ['search']);

    await users.update(owner, admin.id, { status: 'disabled' });
    await assert.rejects(keys.authenticate(token), isAppError('API_KEY_REVOKED'));
  });

  it('audit events carry the request context they were written in', async () => {
    await cls.run(async () => {
      cls.set('requestId', 'req-it-123');
      cls.set('ip', '203.0.113.7');
      cls.set('userAgent', 'integration-test');
      cls.set('actor', owner.actor);
      await users.create(owner, { email: `ctx-${uniqueSuffix()}@example.com`, displayName: 'Ctx', role: 'viewer' });
    });
    const [event] = (await app.get(AuditReader).list(tenant, { limit: 1, action: 'user.create' })).items;
    assert.deepEqual(
      event && { requestId: event.requestId, ip: event.ip, userAgent: event.userAgent, actor: event.actor },
      { requestId: 'req-it-123', ip: '203.0.113.7', userAgent: 'integration-test', actor: { type: 'user', id: owner.actor.id } },
    );
  });

  it('usage events store units and cost exactly, and refuse nonsense', async () => {
    const usage = app.get(UsageWriter);
    await usage.record(tenant, { kind: 'chat.completion', model: 'tiny', units: 1234, unit: 'output_tokens', costUsd: '0.00012345' });
    const [row] = await db.tenant(tenant, (tx) => tx.usageEvent.findMany({ where: { tenantId: tenant.tenantId } }));
    assert.equal(row?.units, 1234n);
    assert.equal(row?.costUsd.toString(), '0.00012345');
    assert.equal(row?.actorType, 'system');
    await assert.rejects(usage.record(tenant, { kind: 'x', units: -1, unit: 'pages' }), /non-negative integer/);
    await assert.rejects(usage.record(tenant, { kind: 'x', units: 1.5, unit: 'pages' }), /non-negative integer/);
  });

  it('keeps at least one active owner', async () => {
    await assert.rejects(users.update(owner, owner.actor.id, { role: 'admin' }), isAppError('LAST_OWNER'));
    await assert.rejects(users.update(owner, owner.actor.id, { status: 'disabled' }), isAppError('LAST_OWNER'));
  });
});
