import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditModule, AuditReader } from '@quarry/audit';
import type { TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { BudgetAlerts, BudgetSettingsStore, MeteringModule, ModelBudgetService } from '@quarry/metering';
import { Metrics } from '@quarry/observability';
import { createTestContext, seedTenant, testConfig, uniqueSuffix } from '@quarry/testing';

/**
 * ModelBudgetService against the real Postgres and Redis. Two Nest application contexts share one Redis
 * prefix and one database, standing for two API instances.
 */
describe('cost controls: authorize and record model calls', () => {
  let first: INestApplicationContext;
  let second: INestApplicationContext;
  let db: Database;
  let budgets: ModelBudgetService;
  let otherInstance: ModelBudgetService;
  let settings: BudgetSettingsStore;
  let alerts: BudgetAlerts;

  before(async () => {
    const config = testConfig({ REDIS_PREFIX: `cost-${uniqueSuffix()}` });
    first = await createTestContext([MeteringModule, AuditModule], config);
    second = await createTestContext([MeteringModule, AuditModule], config);
    db = first.get(Database);
    budgets = first.get(ModelBudgetService);
    otherInstance = second.get(ModelBudgetService);
    settings = first.get(BudgetSettingsStore);
    alerts = first.get(BudgetAlerts);
  });

  after(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  async function usageRows(scope: TenantScope) {
    return db.tenant(scope, (tx) => tx.usageEvent.findMany({ where: { tenantId: scope.tenantId }, orderBy: { id: 'asc' } }));
  }

  it('records one usage event per call, priced from the table, with user and API key', async () => {
    const tenant = await seedTenant(db, 'cost');
    const userId = randomUUID();
    const apiKeyId = randomUUID();
    const result = await budgets.recordModelCall(tenant, { userId, apiKeyId }, {
      model: 'gpt-4o-mini',
      inputTokens: 1_000,
      outputTokens: 500,
      purpose: 'chat.answer',
      messageId: 'm-1',
    });
    // 1000 × $0.15/M + 500 × $0.60/M
    assert.equal(result.costUsd, 0.00045);
    const local = await budgets.recordModelCall(tenant, { userId }, { model: 'local/tinyllama-1.1b', inputTokens: 300, outputTokens: 40, purpose: 'chat.answer' });
    assert.equal(local.costUsd, 0);

    const rows = await usageRows(tenant);
    assert.equal(rows.length, 2);
    const [paid, free] = rows;
    assert.ok(paid && free);
    assert.equal(paid.kind, 'model.call');
    assert.equal(paid.model, 'gpt-4o-mini');
    assert.equal(paid.units, 1_500n);
    assert.equal(paid.unit, 'tokens');
    assert.equal(paid.costUsd.toString(), '0.00045');
    assert.equal(paid.actorType, 'api_key');
    assert.equal(paid.actorId, userId);
    assert.equal(paid.apiKeyId, apiKeyId);
    assert.deepEqual(paid.metadata, { inputTokens: 1_000, outputTokens: 500, purpose: 'chat.answer', priced: true, messageId: 'm-1' });
    assert.equal(free.actorType, 'user');
    assert.equal(free.apiKeyId, null);

    const counters = await db.tenant(tenant, (tx) =>
      tx.usageCounter.findMany({ where: { tenantId: tenant.tenantId, period: 'month' }, orderBy: { subjectType: 'asc' } }),
    );
    assert.deepEqual(
      counters.map((c) => [c.subjectType, c.requests, c.tokens, c.costUsd.toString()]),
      [
        ['tenant', 2n, 1_840n, '0.00045'],
        ['user', 2n, 1_840n, '0.00045'],
      ],
    );
  });

  it('applies a tenant price override and marks unknown models as unpriced', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { priceOverrides: { 'GPT-4o-mini': { inputPerMTokUsd: 1, outputPerMTokUsd: 2 }, 'acme-*': { inputPerMTokUsd: 10, outputPerMTokUsd: 10 } } });
    assert.equal((await budgets.recordModelCall(tenant, {}, { model: 'gpt-4o-mini', inputTokens: 1_000_000, outputTokens: 1_000_000, purpose: 'x' })).costUsd, 3);
    assert.equal((await budgets.recordModelCall(tenant, {}, { model: 'acme-large', inputTokens: 100_000, outputTokens: 0, purpose: 'x' })).costUsd, 1);
    assert.equal((await budgets.recordModelCall(tenant, {}, { model: 'never-heard-of-it', inputTokens: 10, outputTokens: 10, purpose: 'x' })).costUsd, 0);
    const rows = await usageRows(tenant);
    assert.equal((rows[2]?.metadata as { priced: boolean }).priced, false);
    assert.equal(rows[0]?.actorType, 'system');
  });

  it('blocks with 402 BUDGET_EXCEEDED once the tenant token budget is used up', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { tenantTokenBudget: 1_000, onExceeded: 'block' });
    assert.deepEqual(await budgets.authorize(tenant, {}, 'gpt-4o', 400), { action: 'allow' });
    await budgets.recordModelCall(tenant, {}, { model: 'gpt-4o', inputTokens: 700, outputTokens: 100, purpose: 'chat.answer' });
    // 800 used: a 100-token call still fits, a 300-token call would go over.
    assert.deepEqual(await budgets.authorize(tenant, {}, 'gpt-4o', 100), { action: 'allow' });
    const over = await otherInstance.authorize(tenant, {}, 'gpt-4o', 300);
    assert.equal(over.action, 'block');
    assert.ok(over.action === 'block');
    assert.equal(over.code, 'BUDGET_EXCEEDED');
    assert.equal(over.status, 402);
    assert.ok((over.retryAfterMs ?? 0) > 0, 'says when the period resets');
  });

  it('falls back to the configured cheaper model instead, and allows that model', async () => {
    const tenant = await seedTenant(db, 'cost');
    const userId = randomUUID();
    await settings.update(tenant, { userCostBudgetUsd: 0.01, onExceeded: 'fallback', fallbackModel: 'local/tinyllama' });
    await budgets.recordModelCall(tenant, { userId }, { model: 'gpt-4o', inputTokens: 2_000, outputTokens: 500, purpose: 'chat.answer' });
    const decision = await budgets.authorize(tenant, { userId }, 'gpt-4o', 100);
    assert.equal(decision.action, 'fallback');
    assert.ok(decision.action === 'fallback');
    assert.equal(decision.model, 'local/tinyllama');
    assert.match(decision.reason, /BUDGET_EXCEEDED.*user cost budget/);
    assert.deepEqual(await budgets.authorize(tenant, { userId }, 'local/tinyllama', 100), { action: 'allow' });
    // Another user of the same tenant has budget left.
    assert.deepEqual(await budgets.authorize(tenant, { userId: randomUUID() }, 'gpt-4o', 100), { action: 'allow' });
  });

  it('the kill switch blocks every model call with 403 GENERATION_DISABLED, and turning it back on allows them', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { generationEnabled: false });
    const blocked = await otherInstance.authorize(tenant, { userId: randomUUID() }, 'local/tinyllama', 1);
    assert.ok(blocked.action === 'block');
    assert.equal(blocked.code, 'GENERATION_DISABLED');
    assert.equal(blocked.status, 403);
    await settings.update(tenant, { generationEnabled: true });
    assert.deepEqual(await budgets.authorize(tenant, {}, 'local/tinyllama', 1), { action: 'allow' });
  });

  it('records alerts at 50, 80 and 100% once each, even when both instances record concurrently', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { tenantTokenBudget: 10_000 });
    const call = (service: ModelBudgetService) =>
      service.recordModelCall(tenant, {}, { model: 'gpt-4o-mini', inputTokens: 500, outputTokens: 0, purpose: 'chat.answer' });
    // 24 calls × 500 tokens = 12,000 tokens: past every threshold, from both instances at once.
    await Promise.all(Array.from({ length: 24 }, (_, i) => call(i % 2 ? budgets : otherInstance)));
    const listed = await alerts.list(tenant, { limit: 50 });
    assert.deepEqual(listed.items.map((a) => a.threshold).sort((a, b) => a - b), [50, 80, 100]);
    for (const alert of listed.items) {
      assert.equal(alert.subject.type, 'tenant');
      assert.equal(alert.metric, 'tokens');
      assert.equal(alert.budget, 10_000);
      assert.ok(alert.used >= (alert.threshold / 100) * 10_000);
    }
    const audit = await first.get(AuditReader).list(tenant, { limit: 50, action: 'budget.alert' });
    assert.equal(audit.items.length, 3);
    // Nothing new on a further call in the same period.
    await call(budgets);
    assert.equal((await alerts.list(tenant, { limit: 50 })).items.length, 3);
    const counter = await db.tenant(tenant, (tx) =>
      tx.usageCounter.findFirst({ where: { tenantId: tenant.tenantId, subjectType: 'tenant', period: 'month' } }),
    );
    assert.equal(counter?.tokens, 12_500n, 'concurrent upserts lose nothing');
  });

  it('shares requests-per-minute limits between instances through Redis, per tenant and per user', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { tenantRequestsPerMinute: 5, userRequestsPerMinute: 2 });
    const alice = randomUUID();
    const aliceResults = await Promise.all(
      Array.from({ length: 4 }, (_, i) => (i % 2 ? budgets : otherInstance).authorize(tenant, { userId: alice }, 'gpt-4o', 10)),
    );
    assert.equal(aliceResults.filter((d) => d.action === 'allow').length, 2);
    const limited = aliceResults.find((d) => d.action === 'block');
    assert.ok(limited?.action === 'block');
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.equal(limited.status, 429);
    assert.ok((limited.retryAfterMs ?? 0) > 0 && (limited.retryAfterMs ?? 0) <= 60_000);

    // The tenant has 3 requests left this minute, whoever asks and through whichever instance.
    const others = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? budgets : otherInstance).authorize(tenant, { userId: randomUUID() }, 'gpt-4o', 10)),
    );
    assert.equal(others.filter((d) => d.action === 'allow').length, 3);
  });

  it('counts recorded tokens against tokens-per-minute and refuses a call that would go over', async () => {
    const tenant = await seedTenant(db, 'cost');
    const userId = randomUUID();
    await settings.update(tenant, { userTokensPerMinute: 1_000 });
    assert.deepEqual(await budgets.authorize(tenant, { userId }, 'gpt-4o', 600), { action: 'allow' });
    await budgets.recordModelCall(tenant, { userId }, { model: 'gpt-4o', inputTokens: 600, outputTokens: 200, purpose: 'chat.answer' });
    const refused = await otherInstance.authorize(tenant, { userId }, 'gpt-4o', 300);
    assert.ok(refused.action === 'block');
    assert.equal(refused.code, 'RATE_LIMITED');
    assert.deepEqual(await otherInstance.authorize(tenant, { userId }, 'gpt-4o', 150), { action: 'allow' });
  });

  it('exposes cost, tokens and budget utilisation in Prometheus metrics', async () => {
    const tenant = await seedTenant(db, 'cost');
    await settings.update(tenant, { tenantCostBudgetUsd: 1 });
    await budgets.recordModelCall(tenant, {}, { model: 'gpt-4o', inputTokens: 40_000, outputTokens: 10_000, purpose: 'chat.answer' });
    const text = await first.get(Metrics).render();
    const line = (name: string, labels: string) => text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    // 40k × $2.50/M + 10k × $10/M = $0.2
    assert.match(line('quarry_model_cost_usd_total', `tenant="${tenant.tenantId}",model="gpt-4o"`) ?? '', / 0\.2$/);
    assert.match(line('quarry_model_tokens_total', `tenant="${tenant.tenantId}",model="gpt-4o",direction="output"`) ?? '', / 10000$/);
    assert.match(line('quarry_budget_utilisation_ratio', `tenant="${tenant.tenantId}",metric="cost"`) ?? '', / 0\.2$/);
  });
});
