import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@quarry/core';
import {
  auditEvents,
  createApiKey,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  LOGIN_LOCKOUT_SECONDS,
  LOGIN_MAX_FAILURES,
  PASSWORD,
  sessionCookie,
  setCookieHeader,
  signIn,
  startStack,
  uniqueSuffix,
  type Group,
  type HttpResponse,
  type Page,
  type SeededTenant,
  type Session,
  type Stack,
  type Tenant,
  type User,
} from './harness';

/** The per-address sign-in budget this file's API gets; the last test spends the rest of it. */
const LOGIN_ATTEMPTS_PER_IP_PER_MINUTE = 60;

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

describe('authentication: sessions, lockout, CSRF, logout, platform token', () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;

  before(async () => {
    stack = await startStack({ env: { LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: String(LOGIN_ATTEMPTS_PER_IP_PER_MINUTE) } });
    seeded = await createTenant(stack, 'auth');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
  });

  after(async () => {
    await stack?.stop();
  });

  it('sign-in sets an HttpOnly session cookie, returns a CSRF token, and the session then works', async () => {
    const response = await stack.http.post<{ user: User; tenant: Tenant; csrfToken: string; expiresAt: string }>('/v1/auth/login', {
      json: { tenant: seeded.slug, email: seeded.ownerEmail.toUpperCase(), password: PASSWORD },
    });
    const body = expectStatus(response, 200, 'sign in');
    const cookie = setCookieHeader(response);
    assert.match(cookie, /;\s*HttpOnly/i, `session cookie must be HttpOnly: ${cookie}`);
    assert.match(cookie, /;\s*Path=\//i);
    assert.match(cookie, /;\s*SameSite=Lax/i);
    assert.match(cookie, /;\s*Expires=/i);
    assert.equal(typeof body.csrfToken, 'string');
    assert.ok(body.csrfToken.length >= 32, 'CSRF token too short');
    assert.equal(body.user.id, seeded.owner.id);
    assert.equal(body.user.email, seeded.ownerEmail);
    assert.equal(body.tenant.id, seeded.tenant.id);
    assert.ok(Date.parse(body.expiresAt) > Date.now(), 'session must expire in the future');
    const pair = sessionCookie(response);
    const token = pair.slice(pair.indexOf('=') + 1);
    assert.ok(!response.text.includes(decodeURIComponent(token)), 'the session token must only travel in the cookie');
    assert.notEqual(decodeURIComponent(token), body.csrfToken, 'the CSRF token must differ from the session token');

    const session = await stack.http.get<{ user: User; tenant: Tenant; csrfToken: string }>('/v1/auth/session', {
      headers: { cookie: pair },
    });
    const current = expectStatus(session, 200, 'GET /v1/auth/session');
    assert.equal(current.user.id, seeded.owner.id);
    assert.equal(current.tenant.slug, seeded.slug);
    assert.equal(current.csrfToken, body.csrfToken);
    assert.ok(current.user.lastLoginAt, 'lastLoginAt is set by a sign-in');

    const me = expectStatus(await stack.http.get<{ actor: { type: string } }>('/v1/me', { headers: { cookie: pair } }), 200);
    assert.equal(me.actor.type, 'user');
  });

  it('a wrong password answers 401 INVALID_CREDENTIALS and sets no cookie', async () => {
    const response = await stack.http.post('/v1/auth/login', {
      json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'not-the-password-at-all' },
    });
    expectError(response, 401, ErrorCode.InvalidCredentials, 'wrong password');
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('an unknown tenant or unknown email answers exactly like a wrong password', async () => {
    const wrongPassword = expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'nope-nope-nope' } }),
      401,
      ErrorCode.InvalidCredentials,
    );
    const unknownTenant = expectError(
      await stack.http.post('/v1/auth/login', {
        json: { tenant: `no-such-${uniqueSuffix()}`, email: seeded.ownerEmail, password: PASSWORD },
      }),
      401,
      ErrorCode.InvalidCredentials,
      'unknown tenant',
    );
    const unknownEmail = expectError(
      await stack.http.post('/v1/auth/login', {
        json: { tenant: seeded.slug, email: `nobody-${uniqueSuffix()}@e2e.example.com`, password: PASSWORD },
      }),
      401,
      ErrorCode.InvalidCredentials,
      'unknown email',
    );
    assert.equal(unknownTenant.message, wrongPassword.message, 'messages must not tell the cases apart');
    assert.equal(unknownEmail.message, wrongPassword.message, 'messages must not tell the cases apart');
  });

  it(`locks an account after ${LOGIN_MAX_FAILURES} failures: even the right password gets 429 ACCOUNT_LOCKED with Retry-After`, async () => {
    const { user, email } = await createUser(stack, owner, 'member', { label: 'lockme' });
    for (let attempt = 1; attempt <= LOGIN_MAX_FAILURES; attempt += 1) {
      // Varying the case of the email (or the slug) does not start a fresh counter.
      const variant = attempt % 2 === 0 ? email.toUpperCase() : email;
      const tenant = attempt % 2 === 0 ? seeded.slug.toUpperCase() : seeded.slug;
      expectError(
        await stack.http.post('/v1/auth/login', { json: { tenant, email: variant, password: `wrong-password-${attempt}` } }),
        401,
        ErrorCode.InvalidCredentials,
        `failure ${attempt}`,
      );
    }
    const locked = await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email, password: PASSWORD } });
    const error = expectError(locked, 429, ErrorCode.AccountLocked, 'right password while locked');
    assert.deepEqual(locked.headers.getSetCookie(), [], 'a locked account gets no session');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter), `Retry-After must be whole seconds, got ${locked.headers.get('retry-after')}`);
    assert.ok(retryAfter >= 1 && retryAfter <= LOGIN_LOCKOUT_SECONDS, `Retry-After ${retryAfter} outside 1..${LOGIN_LOCKOUT_SECONDS}`);
    assert.deepEqual(error.details, { retryAfterSeconds: retryAfter });

    // The lock is per account: the owner of the same tenant, from the same address, still gets in.
    const other = await signIn(stack, seeded.slug, seeded.ownerEmail);
    assert.equal(other.user.id, seeded.owner.id);

    // Audit: the failures, the lockout and the refused attempt while locked.
    const failures = (await auditEvents(stack, owner, 'auth.login')).filter(
      (event) => event.outcome === 'failure' && (event.metadata as { email?: string }).email === email,
    );
    assert.ok(failures.length >= LOGIN_MAX_FAILURES + 1, `expected ${LOGIN_MAX_FAILURES + 1} failed sign-ins, got ${failures.length}`);
    const reasons = failures.map((event) => (event.metadata as { reason?: string }).reason);
    assert.equal(reasons.filter((reason) => reason === 'wrong_password').length, LOGIN_MAX_FAILURES);
    assert.ok(reasons.includes('locked'), `the attempt while locked is audited as reason "locked": ${reasons.join(',')}`);
    for (const event of failures) {
      assert.equal(event.actor.type, 'anonymous');
      assert.equal(JSON.stringify(event).includes(PASSWORD), false, 'passwords are never audited');
      assert.ok(event.requestId, 'failed sign-ins carry the request id');
    }
    const lockouts = (await auditEvents(stack, owner, 'auth.lockout')).filter((event) => event.target?.id === user.id);
    assert.equal(lockouts.length, 1, 'exactly one auth.lockout event');
    assert.equal((lockouts[0]!.metadata as { failures?: number }).failures, LOGIN_MAX_FAILURES);
  });

  it(`concurrent wrong passwords get no more than ${LOGIN_MAX_FAILURES} guesses checked before the account locks`, async () => {
    const { user, email } = await createUser(stack, owner, 'member', { label: 'burst' });
    const burst = 10;
    const responses = await Promise.all(
      Array.from({ length: burst }, (_, index) =>
        stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email, password: `burst-guess-${index}` } }),
      ),
    );
    const checked = responses.filter((response) => response.status === 401);
    const locked = responses.filter((response) => response.status === 429);
    for (const response of checked) expectError(response, 401, ErrorCode.InvalidCredentials);
    for (const response of locked) expectError(response, 429, ErrorCode.AccountLocked);
    assert.equal(checked.length + locked.length, burst, `unexpected statuses: ${responses.map((response) => response.status).join(',')}`);
    const guesses = (await auditEvents(stack, owner, 'auth.login')).filter(
      (event) => event.target?.id === user.id && (event.metadata as { reason?: string }).reason === 'wrong_password',
    );
    assert.ok(
      checked.length <= LOGIN_MAX_FAILURES,
      `${checked.length} of ${burst} parallel guesses were checked against the password (${guesses.length} audited as ` +
        `wrong_password); the lock allows ${LOGIN_MAX_FAILURES}`,
    );
  });

  it('a successful sign-in resets the failure count', async () => {
    const { email } = await createUser(stack, owner, 'viewer', { label: 'reset' });
    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 1; attempt < LOGIN_MAX_FAILURES; attempt += 1) {
        expectError(
          await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email, password: `wrong-${round}-${attempt}` } }),
          401,
          ErrorCode.InvalidCredentials,
        );
      }
      const session = await signIn(stack, seeded.slug, email);
      assert.equal(session.user.email, email, `round ${round}: ${LOGIN_MAX_FAILURES - 1} failures then the right password signs in`);
    }
  });

  it('records successful sign-ins (auth.login success) and failed ones (auth.login failure)', async () => {
    const failedId = `e2e-fail-${uniqueSuffix()}`;
    expectError(
      await stack.http.post('/v1/auth/login', {
        json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'definitely-wrong' },
        headers: { 'x-request-id': failedId },
      }),
      401,
      ErrorCode.InvalidCredentials,
    );
    const okId = `e2e-ok-${uniqueSuffix()}`;
    const ok = await stack.http.post('/v1/auth/login', {
      json: { tenant: seeded.slug, email: seeded.ownerEmail, password: PASSWORD },
      headers: { 'x-request-id': okId },
    });
    expectStatus(ok, 200);
    const events = await auditEvents(stack, owner, 'auth.login');
    const success = events.find((event) => event.requestId === okId);
    const failure = events.find((event) => event.requestId === failedId);
    assert.ok(success, 'auth.login success event for the request');
    assert.equal(success.outcome, 'success');
    assert.deepEqual(success.actor, { type: 'user', id: seeded.owner.id });
    assert.deepEqual(success.target, { type: 'user', id: seeded.owner.id });
    assert.ok(failure, 'auth.login failure event for the request');
    assert.equal(failure.outcome, 'failure');
    assert.deepEqual(failure.actor, { type: 'anonymous', id: null });
    assert.equal((failure.metadata as { reason?: string }).reason, 'wrong_password');
  });

  it('a cookie-authenticated unsafe request needs the right X-CSRF-Token', async () => {
    const name = `csrf-${uniqueSuffix()}`;
    expectError(
      await stack.http.post('/v1/groups', { as: owner, csrf: null, json: { name: `${name}-missing` } }),
      403,
      ErrorCode.CsrfTokenMissing,
      'no CSRF token',
    );
    expectError(
      await stack.http.post('/v1/groups', { as: owner, csrf: 'x'.repeat(owner.csrfToken.length), json: { name: `${name}-wrong` } }),
      403,
      ErrorCode.CsrfTokenInvalid,
      'wrong CSRF token',
    );
    expectError(
      await stack.http.post('/v1/groups', { as: owner, csrf: 'short', json: { name: `${name}-short` } }),
      403,
      ErrorCode.CsrfTokenInvalid,
      'CSRF token of another length',
    );
    // Another session's token is not this session's token.
    const second = await signIn(stack, seeded.slug, seeded.ownerEmail);
    expectError(
      await stack.http.post('/v1/groups', { as: owner, csrf: second.csrfToken, json: { name: `${name}-other` } }),
      403,
      ErrorCode.CsrfTokenInvalid,
      'CSRF token of another session',
    );
    expectError(
      await stack.http.delete(`/v1/groups/${randomUUID()}`, { as: owner, csrf: null }),
      403,
      ErrorCode.CsrfTokenMissing,
      'DELETE without CSRF',
    );
    const created = expectStatus(await stack.http.post<Group>('/v1/groups', { as: owner, json: { name } }), 201, 'with CSRF');
    assert.equal(created.name, name);
    const groups = expectStatus(await stack.http.get<Page<Group>>('/v1/groups?limit=200', { as: owner }), 200);
    const names = groups.items.map((group) => group.name);
    assert.ok(names.includes(name));
    assert.ok(!names.some((other) => other.startsWith(`${name}-`)), 'a refused request must not have changed anything');
  });

  it('logout ends the session: the cookie then answers 401', async () => {
    const session = await signIn(stack, seeded.slug, seeded.ownerEmail);
    expectStatus(await stack.http.get('/v1/me', { as: session }), 200, 'before logout');
    expectError(await stack.http.post('/v1/auth/logout', { as: session, csrf: null }), 403, ErrorCode.CsrfTokenMissing, 'logout needs CSRF');
    const out = await stack.http.post('/v1/auth/logout', { as: session });
    expectStatus(out, 204, 'logout');
    const cleared = setCookieHeader(out);
    assert.match(cleared, /^quarry_session=;/, `logout must clear the cookie: ${cleared}`);
    assert.match(cleared, /Expires=Thu, 01 Jan 1970/i);
    expectError(await stack.http.get('/v1/me', { as: session }), 401, ErrorCode.Unauthenticated, 'after logout');
    expectError(await stack.http.get('/v1/auth/session', { as: session }), 401, ErrorCode.Unauthenticated, 'session after logout');
    // Other sessions of the same user live on.
    expectStatus(await stack.http.get('/v1/me', { as: owner }), 200, 'another session');
    const logouts = (await auditEvents(stack, owner, 'auth.logout')).filter((event) => event.target?.id === seeded.owner.id);
    assert.ok(logouts.length >= 1, 'auth.logout is audited');
  });

  it('changing the password signs out the other sessions, keeps this one, and retires the old password', async () => {
    const { user, email } = await createUser(stack, owner, 'member', { label: 'pw' });
    const [here, elsewhere] = [await signIn(stack, seeded.slug, email), await signIn(stack, seeded.slug, email)];
    const { token } = await createApiKey(stack, here, ['groups:read']);
    const newPassword = `new-${PASSWORD}-${uniqueSuffix()}`;
    expectError(
      await stack.http.post('/v1/me/password', { as: here, json: { currentPassword: 'not-my-password', newPassword } }),
      400,
      ErrorCode.InvalidCredentials,
      'wrong current password',
    );
    expectError(
      await stack.http.post('/v1/me/password', { as: here, json: { currentPassword: PASSWORD, newPassword: 'short' } }),
      400,
      ErrorCode.ValidationFailed,
      'too short',
    );
    expectError(
      await stack.http.post('/v1/me/password', { as: { bearer: token }, json: { currentPassword: PASSWORD, newPassword } }),
      403,
      ErrorCode.Forbidden,
      'an API key cannot change a password',
    );
    expectStatus(await stack.http.post('/v1/me/password', { as: here, json: { currentPassword: PASSWORD, newPassword } }), 204, 'change');
    expectStatus(await stack.http.get('/v1/me', { as: here }), 200, 'this session lives on');
    expectError(await stack.http.get('/v1/me', { as: elsewhere }), 401, ErrorCode.Unauthenticated, 'the other session ended');
    expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email, password: PASSWORD } }),
      401,
      ErrorCode.InvalidCredentials,
      'old password',
    );
    const fresh = await signIn(stack, seeded.slug, email, newPassword);
    assert.equal(fresh.user.id, user.id);
    const events = (await auditEvents(stack, owner, 'user.password_change')).filter((event) => event.target?.id === user.id);
    assert.deepEqual(events.map((event) => event.outcome).sort(), ['failure', 'success']);
  });

  it('every /v1 route answers 401 UNAUTHENTICATED without credentials (routes from the OpenAPI document)', async () => {
    const document = expectStatus(await stack.http.get<OpenApiDocument>('/openapi.json'), 200);
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
    const tenantRoutes = operations.filter(({ path }) => path.startsWith('/v1/') && !path.startsWith('/v1/platform/') && path !== '/v1/auth/login');
    assert.ok(tenantRoutes.length >= 15, `expected the tenant routes in the document, found ${tenantRoutes.length}`);
    for (const { method, path } of tenantRoutes) {
      const url = path.replace(/\{[^}]+\}/g, () => randomUUID());
      expectError(await stack.http.request(method, url), 401, ErrorCode.Unauthenticated, `${method} ${path} without credentials`);
      expectError(
        await stack.http.request(method, url, { headers: { cookie: 'quarry_session=forged-session-token' } }),
        401,
        ErrorCode.Unauthenticated,
        `${method} ${path} with a forged cookie`,
      );
      expectError(
        await stack.http.request(method, url, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
        401,
        ErrorCode.Unauthenticated,
        `${method} ${path} with a non-bearer Authorization`,
      );
    }
  });

  it('platform routes refuse a missing or wrong token, and tenant credentials', async () => {
    const { token } = await createApiKey(stack, owner, ['tenant:read', 'tenant:manage', 'users:read']);
    const body = { slug: `p-${uniqueSuffix()}`, name: 'nope' };
    for (const [label, options] of [
      ['no token', {}],
      ['wrong token', { as: { bearer: 'not-the-platform-token' } }],
      ['the hash instead of the token', { as: { bearer: 'a'.repeat(64) } }],
      ['a tenant session', { as: owner }],
      ['a tenant API key', { as: { bearer: token } }],
    ] as const) {
      expectError(await stack.http.get('/v1/platform/tenants', options), 401, ErrorCode.Unauthenticated, `list tenants, ${label}`);
      expectError(await stack.http.post('/v1/platform/tenants', { ...options, json: body }), 401, ErrorCode.Unauthenticated, `create, ${label}`);
    }
    const listed = expectStatus(
      await stack.http.get<Page<Tenant>>('/v1/platform/tenants?limit=5', { as: { bearer: stack.platformToken } }),
      200,
      'with the platform token',
    );
    assert.ok(listed.items.length >= 1);
    expectError(
      await stack.http.get('/v1/me', { as: { bearer: stack.platformToken } }),
      401,
      ErrorCode.ApiKeyInvalid,
      'the platform token is not a tenant credential',
    );
  });

  // Runs last: it spends this API's per-address sign-in budget.
  it(`too many sign-in attempts from one address answer 429 RATE_LIMITED, and X-Forwarded-For does not reset it`, async () => {
    let limited: HttpResponse<unknown> | undefined;
    let attempts = 0;
    while (!limited && attempts < LOGIN_ATTEMPTS_PER_IP_PER_MINUTE + 1) {
      attempts += 1;
      const response = await stack.http.post('/v1/auth/login', {
        json: { tenant: `nowhere-${attempts}`, email: `spray-${attempts}@e2e.example.com`, password: 'spray-spray' },
        // Without TRUST_PROXY the API must not believe a client-chosen address.
        headers: { 'x-forwarded-for': `203.0.113.${attempts}` },
      });
      if (response.status === 429) limited = response;
      else expectError(response, 401, ErrorCode.InvalidCredentials, `attempt ${attempts}`);
    }
    assert.ok(limited, `no 429 after ${attempts} attempts`);
    const error = expectError(limited, 429, ErrorCode.RateLimited);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(limited.headers.get('retry-after'))}`);
    assert.deepEqual(error.details, { retryAfterSeconds: retryAfter });
    // The right password is refused too while the address is limited.
    expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email: seeded.ownerEmail, password: PASSWORD } }),
      429,
      ErrorCode.RateLimited,
      'right password while rate limited',
    );
    // Existing sessions are unaffected.
    expectStatus(await stack.http.get('/v1/me', { as: owner }), 200);
  });

  it('no request in this file answered with a server error', () => {
    assert.ok(stack.http.history.length > 20, 'the requests went through the recorded client');
    stack.http.assertNoServerErrors();
  });
});
