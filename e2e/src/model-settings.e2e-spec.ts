import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@quarry/core';
import {
  auditEvents,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  signIn,
  startStack,
  type SeededTenant,
  type Session,
  type Stack,
} from './harness';

interface ModelView {
  name: string;
  kind: string;
  baseUrl: string | null;
  model: string;
  contextWindow: number;
  params: Record<string, unknown>;
  hasApiKey: boolean;
}
interface ModelSettings {
  models: ModelView[];
  usingDefault: boolean;
  defaultModel: ModelView;
}
interface Readiness {
  status: string;
  checks: Record<string, { status: string } | undefined>;
}

const apiKey = 'sk-e2e-provider-key-0123456789abcdef';
const remote = { name: 'vllm', kind: 'openai-compatible', baseUrl: 'http://vllm.internal:8000', model: 'llama-3.1-8b', contextWindow: 8192 };

describe('model settings: GET/PUT /v1/settings/models', { timeout: 180_000 }, () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;
  let admin: Session;
  let member: Session;

  before(async () => {
    stack = await startStack({ worker: false, env: { LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '1000' } });
    seeded = await createTenant(stack, 'mdl');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
    const adminUser = await createUser(stack, owner, 'admin');
    admin = await signIn(stack, seeded.slug, adminUser.email);
    const memberUser = await createUser(stack, owner, 'member');
    member = await signIn(stack, seeded.slug, memberUser.email);
  });

  after(async () => {
    await stack?.stop();
  });

  it('readiness includes the embedded generation model', async () => {
    const ready = expectStatus(await stack.http.get<Readiness>('/health/ready'), 200);
    assert.equal(ready.checks['generation']?.status, 'ok');
  });

  it('a tenant with nothing configured uses the embedded default', async () => {
    const settings = expectStatus(await stack.http.get<ModelSettings>('/v1/settings/models', { as: owner }), 200);
    assert.deepEqual(settings.models, []);
    assert.equal(settings.usingDefault, true);
    assert.equal(settings.defaultModel.kind, 'llama-cpp');
    assert.equal(settings.defaultModel.model, 'tinyllama-1.1b-chat-v1.0-iq2_xxs');
  });

  it('an admin sets a primary and fallbacks; the key is write-only and the change is audited', async () => {
    const put = await stack.http.put<ModelSettings>('/v1/settings/models', {
      as: admin,
      json: {
        models: [
          { ...remote, apiKey, params: { temperature: 0.2, firstTokenTimeoutMs: 5_000 } },
          { name: 'claude', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', model: 'claude-haiku', contextWindow: 200_000 },
          { name: 'local', kind: 'llama-cpp', model: 'embedded', contextWindow: 2048 },
        ],
      },
    });
    const saved = expectStatus(put, 200);
    assert.ok(!put.text.includes(apiKey), 'the key never comes back');
    assert.deepEqual(saved.models.map((model) => [model.name, model.hasApiKey]), [['vllm', true], ['claude', false], ['local', false]]);
    assert.equal(saved.usingDefault, false);
    assert.deepEqual(saved.models[0]?.params, { temperature: 0.2, firstTokenTimeoutMs: 5_000 });

    const got = await stack.http.get<ModelSettings>('/v1/settings/models', { as: owner });
    assert.deepEqual(expectStatus(got, 200).models, saved.models);
    assert.ok(!got.text.includes(apiKey));

    // Re-saving without the key keeps it.
    const again = expectStatus(await stack.http.put<ModelSettings>('/v1/settings/models', { as: admin, json: { models: [remote] } }), 200);
    assert.equal(again.models[0]?.hasApiKey, true);

    const events = await auditEvents(stack, owner, 'settings.models.update');
    assert.ok(events.length >= 2);
    assert.ok(!JSON.stringify(events).includes(apiKey), 'the audit trail never holds the key');
  });

  it('rejects bad input with a 400 and a stable code', async () => {
    const put = (json: unknown) => stack.http.put('/v1/settings/models', { as: admin, json });
    const bad: unknown[] = [
      { models: [{ ...remote, baseUrl: undefined }] },
      { models: [{ ...remote, baseUrl: 'ftp://vllm.internal' }] },
      { models: [{ ...remote, baseUrl: 'http://user:pass@vllm.internal' }] },
      { models: [{ ...remote, kind: 'mystery' }] },
      { models: [{ ...remote, contextWindow: 0 }] },
      { models: [{ ...remote, unknownField: true }] },
      { models: [{ ...remote, params: { temperature: 9 } }] },
      { models: [{ name: 'local', kind: 'llama-cpp', model: 'x', contextWindow: 2048, baseUrl: 'http://x' }] },
      { models: 'not a list' },
      {},
    ];
    for (const body of bad) expectError(await put(body), 400, ErrorCode.ValidationFailed, JSON.stringify(body));
    expectError(await put({ models: [remote, remote] }), 400, ErrorCode.ValidationFailed, 'repeated names');
    const malformed = await stack.http.put('/v1/settings/models', { as: admin, raw: '{"models": [' });
    expectError(malformed, 400, ErrorCode.MalformedJson);
  });

  it('members cannot read or change model settings; anonymous callers are refused', async () => {
    expectError(await stack.http.get('/v1/settings/models', { as: member }), 403, ErrorCode.Forbidden);
    expectError(await stack.http.put('/v1/settings/models', { as: member, json: { models: [] } }), 403, ErrorCode.Forbidden);
    expectError(await stack.http.get('/v1/settings/models'), 401, ErrorCode.Unauthenticated);
  });

  it("another tenant sees only its own (default) settings; an empty list returns to the default", async () => {
    const other = await createTenant(stack, 'mdo');
    const otherOwner = await signIn(stack, other.slug, other.ownerEmail);
    const theirs = expectStatus(await stack.http.get<ModelSettings>('/v1/settings/models', { as: otherOwner }), 200);
    assert.deepEqual(theirs.models, []);
    const reset = expectStatus(await stack.http.put<ModelSettings>('/v1/settings/models', { as: owner, json: { models: [] } }), 200);
    assert.equal(reset.usingDefault, true);
  });
});
