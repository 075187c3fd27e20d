import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '@quarry/core';
import {
  auditEvents,
  createApiKey,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  requestId,
  signIn,
  startStack,
  type ApiKey,
  type Me,
  type Page,
  type SeededTenant,
  type Session,
  type Stack,
  type User,
} from './harness';

const KEY_FIELDS = ['createdAt', 'createdById', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes'];
const TOKEN_PATTERN = /^qk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function secretOf(token: string): string {
  const match = TOKEN_PATTERN.exec(token);
  assert.ok(match, `token does not look like qk_<prefix>_<secret>: ${token}`);
  return match[2]!;
}

function alphanumeric(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

describe('API keys: issue once, authenticate, narrow, expire, revoke', () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;
  let admin: Session;
  let adminUser: User;
  let member: Session;

  before(async () => {
    stack = await startStack();
    seeded = await createTenant(stack, 'keys');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
    const createdAdmin = await createUser(stack, owner, 'admin');
    const createdMember = await createUser(stack, owner, 'member');
    adminUser = createdAdmin.user;
    [admin, member] = await Promise.all([
      signIn(stack, seeded.slug, createdAdmin.email),
      signIn(stack, seeded.slug, createdMember.email),
    ]);
  });

  after(async () => {
    await stack?.stop();
  });

  it('an admin creates a key; the token is shown once and never again (neither token nor hash)', async () => {
    const rid = requestId('key-create');
    const { key, token } = await createApiKey(stack, admin, ['users:read', 'groups:read'], { name: 'reporting', requestId: rid });
    const secret = secretOf(token);
    assert.equal(TOKEN_PATTERN.exec(token)![1], key.prefix, 'the key prefix is the token prefix');
    assert.deepEqual(Object.keys(key).sort(), KEY_FIELDS);
    assert.deepEqual(key.scopes, ['groups:read', 'users:read']);
    assert.equal(key.createdById, adminUser.id);
    assert.equal(key.lastUsedAt, null);
    assert.equal(key.revokedAt, null);
    assert.equal(key.expiresAt, null);

    const fetched = await stack.http.get<ApiKey>(`/v1/api-keys/${key.id}`, { as: admin });
    assert.deepEqual(Object.keys(expectStatus(fetched, 200)).sort(), KEY_FIELDS, 'GET returns the key view only');
    assert.ok(!fetched.text.includes(secret), 'GET must not return the secret');
    assert.ok(!/token|hash/i.test(fetched.text), `GET must not mention a token or hash: ${fetched.text}`);
    const listed = await stack.http.get<Page<ApiKey>>('/v1/api-keys?limit=200', { as: admin });
    const item = expectStatus(listed, 200).items.find((candidate) => candidate.id === key.id);
    assert.ok(item, 'the key is listed');
    assert.deepEqual(Object.keys(item).sort(), KEY_FIELDS);
    assert.ok(!listed.text.includes(secret), 'the list must not return the secret');
    assert.ok(!/token|hash/i.test(listed.text));

    const [event] = (await auditEvents(stack, owner, 'api_key.create')).filter((candidate) => candidate.target?.id === key.id);
    assert.ok(event, 'api_key.create is audited');
    assert.equal(event.outcome, 'success');
    assert.deepEqual(event.actor, { type: 'user', id: adminUser.id });
    assert.equal(event.requestId, rid);
    assert.equal((event.metadata as { prefix?: string }).prefix, key.prefix);
    assert.ok(!JSON.stringify(event).includes(secret), 'the audit trail never holds the secret');
  });

  it('a key authenticates GET /v1/me as its creator, with its scopes, and lastUsedAt gets set', async () => {
    const { key, token } = await createApiKey(stack, admin, ['users:read', 'tenant:read']);
    const me = expectStatus(await stack.http.get<Me>('/v1/me', { as: { bearer: token } }), 200, 'GET /v1/me with the key');
    assert.deepEqual(me.actor, { type: 'api_key', id: key.id });
    assert.equal(me.user?.id, adminUser.id);
    assert.equal(me.tenant.id, seeded.tenant.id);
    assert.deepEqual(me.permissions, ['tenant:read', 'users:read']);
    const used = expectStatus(await stack.http.get<ApiKey>(`/v1/api-keys/${key.id}`, { as: admin }), 200);
    assert.ok(used.lastUsedAt, 'lastUsedAt is set after use');
    assert.ok(Math.abs(Date.parse(used.lastUsedAt) - Date.now()) < 60_000, `lastUsedAt is now-ish: ${used.lastUsedAt}`);
    // A bearer key needs no CSRF token, and a key's request ignores any cookie.
    expectStatus(await stack.http.get('/v1/users', { as: { bearer: token }, headers: { cookie: 'quarry_session=garbage' } }), 200);
  });

  it('scopes narrow what a key may do: users:read only gets 403 FORBIDDEN on /v1/groups', async () => {
    const { token } = await createApiKey(stack, admin, ['users:read']);
    const users = expectStatus(await stack.http.get<Page<User>>('/v1/users', { as: { bearer: token } }), 200, 'in scope');
    assert.ok(users.items.some((user) => user.id === adminUser.id));
    const refused = expectError(await stack.http.get('/v1/groups', { as: { bearer: token } }), 403, ErrorCode.Forbidden, 'out of scope');
    assert.deepEqual(refused.details, { missing: ['groups:read'] });
    expectError(
      await stack.http.post('/v1/users', { as: { bearer: token }, json: { email: 'x@e2e.example.com', displayName: 'x' } }),
      403,
      ErrorCode.Forbidden,
      'users:manage is out of scope',
    );
    expectError(await stack.http.get('/v1/api-keys', { as: { bearer: token } }), 403, ErrorCode.Forbidden, 'api_keys:own is out of scope');
  });

  it('a member cannot create a key with a scope beyond the role (403 SCOPE_EXCEEDS_ROLE), but can within it', async () => {
    const refused = expectError(
      await stack.http.post('/v1/api-keys', { as: member, json: { name: 'too much', scopes: ['groups:read', 'users:read'] } }),
      403,
      ErrorCode.ScopeExceedsRole,
    );
    assert.deepEqual(refused.details, { scopes: ['users:read'] });
    const keys = expectStatus(await stack.http.get<Page<ApiKey>>('/v1/api-keys?limit=200', { as: member }), 200);
    assert.ok(!keys.items.some((key) => key.name === 'too much'), 'the refused key was not created');

    const { key, token } = await createApiKey(stack, member, ['groups:read']);
    expectStatus(await stack.http.get('/v1/groups', { as: { bearer: token } }), 200, 'member key in scope');
    // A member sees only their own keys; an admin (api_keys:all) sees every key in the tenant.
    const memberView = expectStatus(await stack.http.get<Page<ApiKey>>('/v1/api-keys?limit=200', { as: member }), 200);
    assert.ok(memberView.items.every((candidate) => candidate.createdById === member.user.id));
    const adminKeys = expectStatus(await stack.http.get<Page<ApiKey>>('/v1/api-keys?limit=200', { as: admin }), 200).items;
    const adminKey = adminKeys.find((candidate) => candidate.createdById === adminUser.id);
    assert.ok(adminKey);
    expectError(await stack.http.get(`/v1/api-keys/${adminKey.id}`, { as: member }), 404, ErrorCode.NotFound, "a member reads an admin's key");
    expectStatus(await stack.http.get(`/v1/api-keys/${key.id}`, { as: admin }), 200, 'admin sees a member key');
  });

  it('a key can only mint keys within its own scopes, and others cannot see or revoke it', async () => {
    const { key, token } = await createApiKey(stack, admin, ['api_keys:own', 'groups:read']);
    const refused = expectError(
      await stack.http.post('/v1/api-keys', { as: { bearer: token }, json: { name: 'wider', scopes: ['groups:read', 'users:manage'] } }),
      403,
      ErrorCode.ScopeExceedsRole,
      'a key minting a wider key',
    );
    assert.deepEqual(refused.details, { scopes: ['users:manage'] });
    const minted = expectStatus(
      await stack.http.post<{ key: ApiKey; token: string }>('/v1/api-keys', {
        as: { bearer: token },
        json: { name: 'narrower', scopes: ['groups:read'] },
      }),
      201,
      'a key minting a narrower key',
    );
    assert.equal(minted.key.createdById, adminUser.id, 'a key mints keys for its own user');

    expectError(await stack.http.get(`/v1/api-keys/${key.id}`, { as: member }), 404, ErrorCode.NotFound, 'a member reads an admin key');
    expectError(await stack.http.delete(`/v1/api-keys/${key.id}`, { as: member }), 404, ErrorCode.NotFound, 'a member revokes an admin key');
    expectStatus(await stack.http.get('/v1/groups', { as: { bearer: token } }), 200, 'the key still works');
  });

  it("a key is bounded by its user's current role: demoting the user narrows the key at once", async () => {
    const { user, email } = await createUser(stack, owner, 'admin', { label: 'demote-me' });
    const session = await signIn(stack, seeded.slug, email);
    const { token } = await createApiKey(stack, session, ['users:read', 'groups:read']);
    expectStatus(await stack.http.get('/v1/users', { as: { bearer: token } }), 200, 'as admin');
    expectStatus(await stack.http.patch(`/v1/users/${user.id}`, { as: owner, json: { role: 'member' } }), 200, 'demote');
    expectError(await stack.http.get('/v1/users', { as: { bearer: token } }), 403, ErrorCode.Forbidden, 'users:read is gone with the role');
    const me = expectStatus(await stack.http.get<Me>('/v1/me', { as: { bearer: token } }), 200);
    assert.deepEqual(me.permissions, ['groups:read']);
  });

  it('an unknown key answers 401 API_KEY_INVALID, whether well-formed or malformed', async () => {
    const wellFormed = `qk_${alphanumeric(12)}_${randomBytes(32).toString('base64url')}`;
    assert.match(wellFormed, TOKEN_PATTERN);
    const { token } = await createApiKey(stack, admin, ['users:read']);
    const rightPrefixWrongSecret = `${token.slice(0, 16)}${randomBytes(32).toString('base64url')}`;
    assert.match(rightPrefixWrongSecret, TOKEN_PATTERN);
    for (const [label, bearer] of [
      ['well-formed unknown', wellFormed],
      ['right prefix, wrong secret', rightPrefixWrongSecret],
      ['malformed', 'qk_nope'],
      ['not a key at all', 'hello'],
      ['truncated', token.slice(0, -1)],
    ] as const) {
      expectError(await stack.http.get('/v1/me', { as: { bearer } }), 401, ErrorCode.ApiKeyInvalid, label);
    }
  });

  it('an expired key answers 401 API_KEY_EXPIRED; an expiry in the past is refused at creation', async () => {
    const expiresAt = new Date(Date.now() + 2_500);
    const { key, token } = await createApiKey(stack, admin, ['users:read'], { expiresAt: expiresAt.toISOString() });
    assert.equal(key.expiresAt, expiresAt.toISOString());
    expectStatus(await stack.http.get('/v1/me', { as: { bearer: token } }), 200, 'before expiry');
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 300);
    expectError(await stack.http.get('/v1/me', { as: { bearer: token } }), 401, ErrorCode.ApiKeyExpired, 'after expiry');

    const past = await stack.http.post('/v1/api-keys', {
      as: admin,
      json: { name: 'stale', scopes: ['users:read'], expiresAt: new Date(Date.now() - 60_000).toISOString() },
    });
    expectError(past, 400, ErrorCode.ValidationFailed, 'expiresAt in the past');
  });

  it('a revoked key answers 401 API_KEY_REVOKED; revoking is idempotent and audited once', async () => {
    const { key, token } = await createApiKey(stack, admin, ['users:read']);
    expectStatus(await stack.http.get('/v1/me', { as: { bearer: token } }), 200, 'before revocation');
    const rid = requestId('key-revoke');
    const revoked = expectStatus(
      await stack.http.delete<ApiKey>(`/v1/api-keys/${key.id}`, { as: admin, headers: { 'x-request-id': rid } }),
      200,
      'revoke',
    );
    assert.equal(revoked.id, key.id);
    assert.ok(revoked.revokedAt, 'revokedAt is set');
    expectError(await stack.http.get('/v1/me', { as: { bearer: token } }), 401, ErrorCode.ApiKeyRevoked, 'after revocation');
    const again = expectStatus(await stack.http.delete<ApiKey>(`/v1/api-keys/${key.id}`, { as: admin }), 200, 'revoke again');
    assert.equal(again.revokedAt, revoked.revokedAt, 'revoking twice keeps the first revocation');

    const events = (await auditEvents(stack, owner, 'api_key.revoke')).filter((event) => event.target?.id === key.id);
    assert.equal(events.length, 1, 'one api_key.revoke event');
    assert.deepEqual(events[0]!.actor, { type: 'user', id: adminUser.id });
    assert.equal(events[0]!.requestId, rid);
    assert.equal(events[0]!.outcome, 'success');
  });

  it('concurrent revocations of one key record a single revocation (one time, one audit event)', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      const { key } = await createApiKey(stack, admin, ['users:read']);
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => stack.http.delete<ApiKey>(`/v1/api-keys/${key.id}`, { as: admin })),
      );
      const times = new Set(responses.map((response) => expectStatus(response, 200, 'concurrent revoke').revokedAt));
      const events = (await auditEvents(stack, owner, 'api_key.revoke')).filter((event) => event.target?.id === key.id);
      outcomes.push(`revokedAt values=${times.size} events=${events.length}`);
    }
    assert.ok(
      outcomes.every((outcome) => outcome === 'revokedAt values=1 events=1'),
      `revoking is idempotent, also when requests overlap: ${outcomes.join('; ')}`,
    );
  });

  it('a key can revoke itself (api_keys:own) and is refused right after', async () => {
    const { key, token } = await createApiKey(stack, member, ['api_keys:own']);
    expectStatus(await stack.http.delete(`/v1/api-keys/${key.id}`, { as: { bearer: token } }), 200, 'self-revoke');
    expectError(await stack.http.get('/v1/api-keys', { as: { bearer: token } }), 401, ErrorCode.ApiKeyRevoked);
  });

  it('no request in this file answered with a server error', () => {
    assert.ok(stack.http.history.length > 20, 'the requests went through the recorded client');
    stack.http.assertNoServerErrors();
  });
});
