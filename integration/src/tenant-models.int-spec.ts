import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditModule, AuditReader } from '@quarry/audit';
import { AppError, loadConfig, type Principal } from '@quarry/core';
import { Database } from '@quarry/db';
import { GenerationModels, GenerationModule, generationEnvSchema, TenantModelSettingsService } from '@quarry/generation';
import { IdentityModule, rolePermissions, UsersService } from '@quarry/identity';
import { createTestContext, requiredEnv, seedTenant, startModelServer, testConfig, uniqueSuffix, type RunningModelServer } from '@quarry/testing';
import { Client } from 'pg';

const secretKey = 'sk-tenant-secret-abcdef0123456789';

describe('tenant model settings and provider chains against Postgres', { timeout: 120_000 }, () => {
  let app: INestApplicationContext;
  let db: Database;
  let settings: TenantModelSettingsService;
  let models: GenerationModels;
  let server: RunningModelServer;
  let owner: Principal;
  let other: Principal;
  /** As the table owner, to look at what is stored, as a database reader would. */
  let ownerDb: Client;

  const principalFor = async (label: string): Promise<Principal> => {
    const tenant = await seedTenant(db, label);
    const user = await app.get(UsersService).createBootstrapOwner(tenant, { email: `owner-${label}@example.com`, displayName: 'Owner', password: 'a long enough password' });
    return { ...tenant, actor: { type: 'user', id: user.id, role: 'owner', sessionId: 'n/a' }, permissions: rolePermissions('owner') };
  };

  before(async () => {
    const generation = loadConfig(generationEnvSchema, { SECRETS_KEY: randomBytes(32).toString('base64') });
    app = await createTestContext([IdentityModule, AuditModule, GenerationModule], { ...testConfig({ REDIS_PREFIX: `it-${uniqueSuffix()}` }), ...generation });
    db = app.get(Database);
    settings = app.get(TenantModelSettingsService);
    models = app.get(GenerationModels);
    ownerDb = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
    await ownerDb.connect();
    server = await startModelServer({ mode: 'paced', tokensPerSecond: 500, pacedTokens: 8 });
    owner = await principalFor('mdl');
    other = await principalFor('mdo');
  });

  after(async () => {
    await server.close();
    await ownerDb.end();
    await app.close();
  });

  it('with nothing configured, the embedded model is the whole chain', async () => {
    const { chain, models: views } = await models.forTenant(owner);
    assert.equal(chain.providers.length, 1);
    assert.equal(chain.providers[0], models.embedded);
    assert.equal(views[0]?.kind, 'llama-cpp');
  });

  it('stores keys sealed, keeps them across updates that omit them, and builds the chain in order', async () => {
    await settings.replace(owner, [
      { name: 'primary', kind: 'openai-compatible', baseUrl: server.url, model: 'paced', contextWindow: 4096, apiKey: secretKey, params: { maxAttempts: 1 } },
      { name: 'claude', kind: 'anthropic', baseUrl: server.url, model: 'paced', contextWindow: 8192 },
      { name: 'local', kind: 'llama-cpp', model: 'ignored', contextWindow: 2048 },
    ]);
    const { rows: raw } = await ownerDb.query<{ api_key_sealed: string | null }>(
      'SELECT api_key_sealed FROM tenant_models WHERE tenant_id = $1 ORDER BY position',
      [owner.tenantId],
    );
    assert.equal(raw.length, 3);
    assert.match(raw[0]!.api_key_sealed ?? '', /^v1:/);
    assert.ok(!JSON.stringify(raw).includes(secretKey), 'the key is not stored in clear');

    // Reorder without the key: it stays with its name.
    const views = await settings.replace(owner, [
      { name: 'primary', kind: 'openai-compatible', baseUrl: server.url, model: 'paced', contextWindow: 4096, params: { maxAttempts: 1 } },
      { name: 'local', kind: 'llama-cpp', model: 'ignored', contextWindow: 2048 },
    ]);
    assert.deepEqual(views.map((view) => [view.name, view.hasApiKey]), [['primary', true], ['local', false]]);
    assert.ok(!JSON.stringify(views).includes(secretKey));

    const { chain } = await models.forTenant(owner);
    assert.deepEqual(chain.providers.map((provider) => provider.kind), ['openai-compatible', 'llama-cpp']);
    assert.equal(chain.contextWindow, 2048);
    const result = await chain.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 5 });
    assert.equal(result.model, 'paced');
    assert.equal(server.requests.at(-1)?.authorization, `Bearer ${secretKey}`);

    const audit = await app.get(AuditReader).list(owner, { limit: 20 });
    assert.ok(audit.items.some((event) => event.action === 'settings.models.update'));
    assert.ok(!JSON.stringify(audit).includes(secretKey), 'the audit trail never holds a key');
  });

  it('removes a key on null, and another tenant sees none of this tenant’s models', async () => {
    const views = await settings.replace(owner, [
      { name: 'primary', kind: 'openai-compatible', baseUrl: server.url, model: 'paced', contextWindow: 4096, apiKey: null },
    ]);
    assert.equal(views[0]?.hasApiKey, false);
    assert.deepEqual(await settings.list(other), []);
    // Even without the tenant filter in code, RLS hides other tenants' rows.
    const seen = await db.tenant(other, (tx) => tx.tenantModel.count());
    assert.equal(seen, 0);
  });

  it('a sealed key copied into another tenant does not open', async () => {
    await settings.replace(owner, [{ name: 'x', kind: 'anthropic', baseUrl: server.url, model: 'paced', contextWindow: 1000, apiKey: secretKey }]);
    await settings.replace(other, [{ name: 'x', kind: 'anthropic', baseUrl: server.url, model: 'paced', contextWindow: 1000, apiKey: 'other-key' }]);
    await ownerDb.query(
      `UPDATE tenant_models SET api_key_sealed = (SELECT api_key_sealed FROM tenant_models WHERE tenant_id = $1 AND name = 'x')
        WHERE tenant_id = $2 AND name = 'x'`,
      [owner.tenantId, other.tenantId],
    );
    await assert.rejects(settings.listWithSecrets(other));
  });

  it('rejects repeated names', async () => {
    await assert.rejects(
      settings.replace(owner, [
        { name: 'a', kind: 'llama-cpp', model: 'm', contextWindow: 2048 },
        { name: 'a', kind: 'llama-cpp', model: 'm', contextWindow: 2048 },
      ]),
      (error: unknown) => error instanceof AppError && error.status === 400,
    );
  });
});
