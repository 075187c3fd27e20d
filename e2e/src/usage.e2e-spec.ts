import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requiredEnv } from '@quarry/testing';
import { Client } from 'pg';
import {
  auditEvents,
  createApiKey,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  fieldPaths,
  signIn,
  startStack,
  type Page,
  type Session,
  type Stack,
} from './harness';
import { createCollection, upload, waitForStatus } from './ingestion-support';

interface UsageRow {
  day?: string;
  model?: string | null;
  userId?: string | null;
  apiKeyId?: string | null;
  kind: string;
  unit: string;
  events: number;
  units: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}
interface UsageReport {
  from: string;
  to: string;
  groupBy: string[];
  rows: UsageRow[];
  totals: { events: number; costUsd: number; inputTokens: number; outputTokens: number };
  truncated: boolean;
}
interface BudgetOverview {
  policy: Record<string, unknown> & { generationEnabled: boolean; tenantTokenBudget: number | null; priceOverrides: Record<string, unknown> };
  current: { period: string; periodStart: string; resetsAt: string; tokens: number; costUsd: number; tokenUtilisation: number | null };
}
interface UsageAlert {
  id: string;
  subject: { type: string; id: string };
  metric: string;
  threshold: number;
}

interface SeedEvent {
  at: string;
  model: string;
  userId: string;
  apiKeyId?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
}

/** Model-call usage rows, written as the owner role exactly as ModelBudgetService writes them. */
async function seedModelCalls(tenantId: string, events: SeedEvent[]): Promise<void> {
  const client = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
  await client.connect();
  try {
    for (const e of events) {
      await client.query(
        `INSERT INTO usage_events (id, tenant_id, actor_type, actor_id, api_key_id, kind, model, units, unit, cost_usd, metadata, created_at)
         VALUES ($1, $2, $3, $4, $5, 'model.call', $6, $7, 'tokens', $8, $9, $10)`,
        [
          randomUUID(),
          tenantId,
          e.apiKeyId ? 'api_key' : 'user',
          e.userId,
          e.apiKeyId ?? null,
          e.model,
          e.inputTokens + e.outputTokens,
          e.costUsd,
          JSON.stringify({ inputTokens: e.inputTokens, outputTokens: e.outputTokens, purpose: 'chat.answer', priced: true }),
          e.at,
        ],
      );
    }
  } finally {
    await client.end();
  }
}

async function seedAlert(tenantId: string, threshold: number): Promise<void> {
  const client = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO usage_alerts (id, tenant_id, subject_type, subject_id, metric, period, period_start, threshold, used, budget)
       VALUES ($1, $2::uuid, 'tenant', $2::text, 'tokens', 'month', date_trunc('month', now()), $3::int, $3::int * 10, 1000)`,
      [randomUUID(), tenantId, threshold],
    );
  } finally {
    await client.end();
  }
}

describe('usage, budgets and alerts over HTTP', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;
  let member: Session;
  let tenantId: string;
  let keyId: string;
  let otherAdmin: Session;

  const range = 'from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z';

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-usage-'));
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir } });
    const tenant = await createTenant(stack, 'usage');
    tenantId = tenant.tenant.id;
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    const memberUser = await createUser(stack, admin, 'member', { label: 'usage-member' });
    member = await signIn(stack, tenant.slug, memberUser.email);
    keyId = (await createApiKey(stack, admin, ['chat'])).key.id;
    const other = await createTenant(stack, 'usage-other');
    otherAdmin = await signIn(stack, other.slug, other.ownerEmail);

    await seedModelCalls(tenantId, [
      { at: '2026-11-01T09:00:00Z', model: 'gpt-4o', userId: admin.user.id, apiKeyId: keyId, inputTokens: 1_000, outputTokens: 200, costUsd: '0.0045' },
      { at: '2026-11-01T10:00:00Z', model: 'gpt-4o', userId: admin.user.id, apiKeyId: keyId, inputTokens: 3_000, outputTokens: 800, costUsd: '0.0155' },
      { at: '2026-11-01T11:00:00Z', model: 'gpt-4o', userId: member.user.id, inputTokens: 500, outputTokens: 100, costUsd: '0.00225' },
      { at: '2026-11-02T23:59:59Z', model: 'local/tinyllama', userId: member.user.id, inputTokens: 400, outputTokens: 60, costUsd: '0' },
      // Outside the range on both sides.
      { at: '2026-10-31T23:59:59Z', model: 'gpt-4o', userId: member.user.id, inputTokens: 9_999, outputTokens: 1, costUsd: '1' },
      { at: '2026-11-03T00:00:00Z', model: 'gpt-4o', userId: member.user.id, inputTokens: 9_999, outputTokens: 1, costUsd: '1' },
    ]);
  });

  after(async () => {
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('aggregates model calls by day, model, user and API key, with tokens in and out and cost', async () => {
    const report = expectStatus(
      await stack.http.get<UsageReport>(`/v1/usage?${range}&groupBy=day,model,user,apiKey`, { as: admin }),
      200,
      'usage',
    );
    assert.deepEqual(report.groupBy, ['day', 'model', 'user', 'apiKey']);
    assert.equal(report.truncated, false);
    const strip = (rows: UsageRow[]) => rows.map((r) => [r.day, r.model, r.userId, r.apiKeyId, r.events, r.inputTokens, r.outputTokens, r.costUsd]);
    assert.deepEqual(
      strip(report.rows).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        ['2026-11-01', 'gpt-4o', admin.user.id, keyId, 2, 4_000, 1_000, 0.02],
        ['2026-11-01', 'gpt-4o', member.user.id, null, 1, 500, 100, 0.00225],
        ['2026-11-02', 'local/tinyllama', member.user.id, null, 1, 400, 60, 0],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    assert.ok(report.rows.every((r) => r.kind === 'model.call' && r.unit === 'tokens' && r.units === r.inputTokens + r.outputTokens));
    assert.deepEqual(report.totals, { events: 4, costUsd: 0.02225, inputTokens: 4_900, outputTokens: 1_160 });

    const byModel = expectStatus(await stack.http.get<UsageReport>(`/v1/usage?${range}&groupBy=model&kind=model.call`, { as: admin }), 200);
    assert.deepEqual(
      byModel.rows.map((r) => [r.model, r.events, r.costUsd]),
      [
        ['gpt-4o', 3, 0.02225],
        ['local/tinyllama', 1, 0],
      ],
    );
    assert.equal(byModel.rows[0]?.day, undefined, 'only the asked dimensions are returned');
  });

  it('includes ingestion usage (pages parsed, tokens embedded, bytes stored) in the default range', async () => {
    const collection = await createCollection(stack, admin, 'metered');
    const content = '# Metering\n\nEvery page parsed and every token embedded is counted for the tenant.';
    const uploaded = await upload(stack, admin, collection.id, [{ name: 'metered.md', content, type: 'text/markdown' }]);
    await waitForStatus(stack, admin, uploaded.body.items![0]!.document!.id, ['indexed']);
    const report = expectStatus(await stack.http.get<UsageReport>('/v1/usage?groupBy=kind', { as: admin }), 200);
    const byKind = new Map(report.rows.map((r) => [r.kind, r]));
    assert.ok((byKind.get('ingest.parse')?.units ?? 0) >= 1, JSON.stringify(report.rows));
    assert.equal(byKind.get('ingest.parse')?.unit, 'pages');
    assert.ok((byKind.get('ingest.embed')?.units ?? 0) > 0);
    assert.equal(byKind.get('ingest.embed')?.unit, 'tokens');
    assert.equal(byKind.get('storage.bytes')?.units, Buffer.byteLength(content));
    assert.equal(Date.parse(report.to) - Date.parse(report.from), 30 * 86_400_000, 'the default range is the last 30 days');
  });

  it('shows another tenant none of it', async () => {
    const report = expectStatus(await stack.http.get<UsageReport>(`/v1/usage?${range}`, { as: otherAdmin }), 200);
    assert.deepEqual(report.rows, []);
    assert.deepEqual(report.totals, { events: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 });
  });

  it('answers bad usage queries with 400 VALIDATION_FAILED naming the field', async () => {
    const cases: [string, string][] = [
      ['from=2026-11-03T00:00:00Z&to=2026-11-01T00:00:00Z', 'from'],
      ['from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['from=yesterday', 'from'],
      ['groupBy=day,colour', 'groupBy'],
      ['groupBy=', 'groupBy'],
      ['kind=DROP%20TABLE', 'kind'],
      ['sort=cost', ''],
    ];
    for (const [query, field] of cases) {
      const error = expectError(await stack.http.get(`/v1/usage?${query}`, { as: admin }), 400, 'VALIDATION_FAILED', query);
      if (field) assert.ok(fieldPaths(error).some((p) => p.startsWith(field)), `${query}: ${JSON.stringify(error.details)}`);
    }
  });

  it('/metrics carries the cost, token, decision and budget utilisation families', async () => {
    const metrics = await stack.http.get('/metrics');
    assert.equal(metrics.status, 200);
    for (const family of ['quarry_model_cost_usd_total', 'quarry_model_tokens_total', 'quarry_model_budget_decisions_total', 'quarry_budget_utilisation_ratio']) {
      assert.match(metrics.text, new RegExp(`^# TYPE ${family} `, 'm'), family);
    }
  });

  it('lets only administrators read usage and change budgets', async () => {
    expectError(await stack.http.get('/v1/usage', { as: member }), 403, 'FORBIDDEN');
    expectError(await stack.http.get('/v1/settings/budgets', { as: member }), 403, 'FORBIDDEN');
    expectError(await stack.http.patch('/v1/settings/budgets', { as: member, json: { generationEnabled: false } }), 403, 'FORBIDDEN');
    expectError(await stack.http.get('/v1/usage/alerts', { as: member }), 403, 'FORBIDDEN');
    expectError(await stack.http.get('/v1/usage'), 401, 'UNAUTHENTICATED');
  });

  it('reads and changes budgets, limits and the kill switch; changes are audited', async () => {
    const initial = expectStatus(await stack.http.get<BudgetOverview>('/v1/settings/budgets', { as: admin }), 200);
    assert.equal(initial.policy.generationEnabled, true);
    assert.equal(initial.policy.tenantTokenBudget, null);
    assert.equal(initial.current.period, 'month');
    assert.equal(initial.current.tokenUtilisation, null);

    const changed = expectStatus(
      await stack.http.patch<BudgetOverview>('/v1/settings/budgets', {
        as: admin,
        json: {
          generationEnabled: false,
          period: 'day',
          tenantTokenBudget: 100_000,
          userCostBudgetUsd: 2.5,
          onExceeded: 'fallback',
          fallbackModel: 'local/tinyllama',
          userRequestsPerMinute: 30,
          priceOverrides: { 'Acme-Large': { inputPerMTokUsd: 1, outputPerMTokUsd: 4 } },
        },
      }),
      200,
    );
    assert.equal(changed.policy.generationEnabled, false);
    assert.equal(changed.policy.tenantTokenBudget, 100_000);
    assert.equal(changed.policy.userCostBudgetUsd, 2.5);
    assert.equal(changed.policy.onExceeded, 'fallback');
    assert.deepEqual(changed.policy.priceOverrides, { 'acme-large': { inputPerMTokUsd: 1, outputPerMTokUsd: 4 } });
    assert.equal(changed.current.period, 'day');
    assert.equal(changed.current.tokenUtilisation, 0);

    // Fields left out keep their values; null removes a limit.
    const partial = expectStatus(
      await stack.http.patch<BudgetOverview>('/v1/settings/budgets', { as: admin, json: { generationEnabled: true, tenantTokenBudget: null } }),
      200,
    );
    assert.equal(partial.policy.generationEnabled, true);
    assert.equal(partial.policy.tenantTokenBudget, null);
    assert.equal(partial.policy.userCostBudgetUsd, 2.5);
    assert.equal(partial.policy.userRequestsPerMinute, 30);

    const audited = await auditEvents(stack, admin, 'budget.update');
    assert.equal(audited.length, 2);
    assert.equal(audited[0]?.actor.id, admin.user.id);
  });

  it('rejects bad budget settings with 400 VALIDATION_FAILED and changes nothing', async () => {
    const bodies: [unknown, string][] = [
      [{ tenantTokenBudget: -1 }, 'tenantTokenBudget'],
      [{ tenantTokenBudget: 1.5 }, 'tenantTokenBudget'],
      [{ userCostBudgetUsd: 'ten' }, 'userCostBudgetUsd'],
      [{ onExceeded: 'explode' }, 'onExceeded'],
      [{ period: 'week' }, 'period'],
      [{ tenantRequestsPerMinute: 0 }, 'tenantRequestsPerMinute'],
      [{ priceOverrides: { 'gpt-4o': { inputPerMTokUsd: -1, outputPerMTokUsd: 1 } } }, 'priceOverrides'],
      [{ fallbackModel: '' }, 'fallbackModel'],
      [{ fallbackModel: 'tiny\u0000llama' }, 'fallbackModel'],
      [{ priceOverrides: { 'a\u0000b': { inputPerMTokUsd: 1, outputPerMTokUsd: 1 } } }, 'priceOverrides'],
      [{ killSwitch: true }, ''],
    ];
    const before = expectStatus(await stack.http.get<BudgetOverview>('/v1/settings/budgets', { as: admin }), 200);
    for (const [json, field] of bodies) {
      const error = expectError(await stack.http.patch('/v1/settings/budgets', { as: admin, json }), 400, 'VALIDATION_FAILED', JSON.stringify(json));
      if (field) assert.ok(fieldPaths(error).some((p) => p.startsWith(field)), `${JSON.stringify(json)}: ${JSON.stringify(error.details)}`);
    }
    expectError(await stack.http.patch('/v1/settings/budgets', { as: admin, raw: '{"period":' }), 400, 'MALFORMED_JSON');
    const afterwards = expectStatus(await stack.http.get<BudgetOverview>('/v1/settings/budgets', { as: admin }), 200);
    assert.deepEqual(afterwards.policy, before.policy);
  });

  it('lists budget alerts newest first, page by page, to administrators of the tenant only', async () => {
    await seedAlert(tenantId, 50);
    await seedAlert(tenantId, 80);
    const first = expectStatus(await stack.http.get<Page<UsageAlert>>('/v1/usage/alerts?limit=1', { as: admin }), 200);
    assert.equal(first.items.length, 1);
    assert.ok(first.nextCursor);
    const second = expectStatus(
      await stack.http.get<Page<UsageAlert>>(`/v1/usage/alerts?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`, { as: admin }),
      200,
    );
    assert.deepEqual([first.items[0]?.threshold, second.items[0]?.threshold].sort(), [50, 80]);
    assert.equal(second.items[0]?.subject.id, tenantId);
    const others = expectStatus(await stack.http.get<Page<UsageAlert>>('/v1/usage/alerts', { as: otherAdmin }), 200);
    assert.deepEqual(others.items, []);
    expectError(await stack.http.get('/v1/usage/alerts?cursor=not-ours', { as: admin }), 400, 'INVALID_CURSOR');
  });
});
