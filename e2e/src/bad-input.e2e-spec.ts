import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@quarry/core';
import {
  assertErrorShape,
  createGroup,
  createTenant,
  expectError,
  expectStatus,
  fieldPaths,
  signIn,
  startStack,
  uniqueSlug,
  uniqueSuffix,
  type Credentials,
  type Group,
  type HttpResponse,
  type SeededTenant,
  type Session,
  type Stack,
  type User,
} from './harness';

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }>>;
  components?: { schemas?: Record<string, { required?: string[] }> };
}

/** Whether an operation's JSON body has required fields (then `{}` must be refused too). */
function bodyHasRequiredFields(document: OpenApiDocument, operation: { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }): boolean {
  const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref;
  const name = ref?.split('/').pop();
  return (name ? document.components?.schemas?.[name]?.required?.length ?? 0 : 1) > 0;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe('bad input: every failure is a 4xx with the one error shape, never a 500', () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;
  let group: Group;
  let platform: Credentials;

  before(async () => {
    stack = await startStack();
    seeded = await createTenant(stack, 'bad');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
    group = await createGroup(stack, owner);
    platform = { bearer: stack.platformToken };
  });

  after(async () => {
    await stack?.stop();
  });

  it('malformed JSON answers 400 MALFORMED_JSON, before and after authentication', async () => {
    for (const raw of ['{"name": ', '{name: "x"}', "{'name': 'x'}", '{"name":"x",}', 'null', '42', '"just a string"']) {
      expectError(await stack.http.post('/v1/groups', { as: owner, raw }), 400, ErrorCode.MalformedJson, `POST /v1/groups ${raw}`);
    }
    expectError(await stack.http.post('/v1/auth/login', { raw: '{"tenant":' }), 400, ErrorCode.MalformedJson, 'public route');
    expectError(await stack.http.post('/v1/groups', { raw: '{' }), 400, ErrorCode.MalformedJson, 'unauthenticated');
    expectError(
      await stack.http.post('/v1/groups', {
        as: owner,
        raw: '{"name":"x"}',
        headers: { 'content-type': 'application/json; charset=latin1' },
      }),
      415,
      ErrorCode.UnsupportedMediaType,
      'non-UTF-8 charset',
    );
    const groups = expectStatus(await stack.http.get<{ items: Group[] }>('/v1/groups?limit=200', { as: owner }), 200);
    assert.deepEqual(groups.items.map((item) => item.id), [group.id], 'nothing was created by a bad body');
  });

  it('wrong types and unknown fields answer 400 VALIDATION_FAILED naming every bad field', async () => {
    const users = expectError(
      await stack.http.post('/v1/users', {
        as: owner,
        json: { email: 42, displayName: true, role: 'emperor', password: 'short', isAdmin: true, tenantId: randomUUID() },
      }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(users), ['displayName', 'email', 'isAdmin', 'password', 'role', 'tenantId']);
    for (const path of fieldPaths(users)) assert.ok(users.message.includes(path), `message names ${path}: ${users.message}`);

    const tenant = expectError(
      await stack.http.post('/v1/platform/tenants', {
        as: platform,
        json: { slug: 'Not A Slug', name: '', owner: { email: 'not-an-email', displayName: 'ok', password: 'short', bogus: 1 } },
      }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(tenant), ['name', 'owner.bogus', 'owner.email', 'owner.password', 'slug']);

    const key = expectError(
      await stack.http.post('/v1/api-keys', { as: owner, json: { name: 'k', scopes: ['users:read', 'root'], expiresAt: 'tomorrow' } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(key), ['expiresAt', 'scopes.1']);

    const empty = expectError(await stack.http.patch(`/v1/users/${owner.user.id}`, { as: owner, json: {} }), 400, ErrorCode.ValidationFailed);
    assert.deepEqual(fieldPaths(empty), ['(body)']);

    const array = expectError(await stack.http.post('/v1/groups', { as: owner, json: [] }), 400, ErrorCode.ValidationFailed);
    assert.deepEqual(fieldPaths(array), ['(body)']);

    const login = expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'x', remember: true } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(login), ['remember']);

    const query = expectError(
      await stack.http.get('/v1/users?limit=abc&sort=name', { as: owner }),
      400,
      ErrorCode.ValidationFailed,
      'bad query',
    );
    assert.deepEqual(fieldPaths(query), ['limit', 'sort']);
    for (const limit of ['0', '201', '1.5', '-1']) {
      const error = expectError(await stack.http.get(`/v1/groups?limit=${limit}`, { as: owner }), 400, ErrorCode.ValidationFailed, `limit=${limit}`);
      assert.deepEqual(fieldPaths(error), ['limit']);
    }
    const audit = expectError(
      await stack.http.get('/v1/audit-events?outcome=maybe&from=yesterday', { as: owner }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(audit), ['from', 'outcome']);
  });

  it('over-long strings answer 400; the longest allowed value is accepted', async () => {
    const longName = expectError(
      await stack.http.post('/v1/users', { as: owner, json: { email: `long-${uniqueSuffix()}@e2e.example.com`, displayName: 'x'.repeat(201) } }),
      400,
      ErrorCode.ValidationFailed,
      'displayName of 201',
    );
    assert.deepEqual(fieldPaths(longName), ['displayName']);
    const fits = await stack.http.post<User>('/v1/users', {
      as: owner,
      json: { email: `fits-${uniqueSuffix()}@e2e.example.com`, displayName: 'y'.repeat(200) },
    });
    assert.equal(expectStatus(fits, 201, 'displayName of 200').displayName.length, 200);

    const patch = expectError(
      await stack.http.patch(`/v1/users/${owner.user.id}`, { as: owner, json: { displayName: 'z'.repeat(201) } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(patch), ['displayName']);

    const groupName = expectError(
      await stack.http.post('/v1/groups', { as: owner, json: { name: 'g'.repeat(101) } }),
      400,
      ErrorCode.ValidationFailed,
      'group name of 101',
    );
    assert.deepEqual(fieldPaths(groupName), ['name']);
    const description = expectError(
      await stack.http.post('/v1/groups', { as: owner, json: { name: `d-${uniqueSuffix()}`, description: 'd'.repeat(1001) } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(description), ['description']);
    const longest = expectStatus(await stack.http.post<Group>('/v1/groups', { as: owner, json: { name: 'h'.repeat(100) } }), 201);
    assert.equal(longest.name.length, 100);
    expectStatus(await stack.http.delete(`/v1/groups/${longest.id}`, { as: owner }), 204);

    const email = expectError(
      await stack.http.post('/v1/users', { as: owner, json: { email: `${'e'.repeat(250)}@e2e.example.com`, displayName: 'x' } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(email), ['email']);
    const password = expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'p'.repeat(1025) } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(password), ['password']);
    const tenantName = expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: 't'.repeat(64), email: seeded.ownerEmail, password: 'x' } }),
      400,
      ErrorCode.ValidationFailed,
    );
    assert.deepEqual(fieldPaths(tenantName), ['tenant']);
    const cursor = expectError(await stack.http.get(`/v1/users?cursor=${'c'.repeat(201)}`, { as: owner }), 400, ErrorCode.ValidationFailed);
    assert.deepEqual(fieldPaths(cursor), ['cursor']);
  });

  it('a body over 1mb answers 413 PAYLOAD_TOO_LARGE', async () => {
    const big = { name: `big-${uniqueSuffix()}`, description: 'b'.repeat(1024 * 1024 + 1) };
    expectError(await stack.http.post('/v1/groups', { as: owner, json: big }), 413, ErrorCode.PayloadTooLarge, 'authenticated');
    const login = { tenant: 'x'.repeat(2 * 1024 * 1024), email: 'a@b.c', password: 'x' };
    expectError(await stack.http.post('/v1/auth/login', { json: login }), 413, ErrorCode.PayloadTooLarge, 'public route');
    const groups = expectStatus(await stack.http.get<{ items: Group[] }>('/v1/groups?limit=200', { as: owner }), 200);
    assert.ok(!groups.items.some((item) => item.name === big.name));
  });

  it('a non-UUID id answers 400 VALIDATION_FAILED naming the parameter', async () => {
    for (const [method, path, expected] of [
      ['GET', '/v1/users/not-a-uuid', ['id']],
      ['PATCH', '/v1/users/123', ['id']],
      ['DELETE', '/v1/users/%27%20OR%201%3D1', ['id']],
      ['GET', '/v1/groups/zzz', ['id']],
      ['GET', '/v1/groups/zzz/members', ['id']],
      ['PUT', `/v1/groups/${group.id}/members/not-a-user`, ['userId']],
      ['DELETE', '/v1/groups/nope/members/nope', ['id', 'userId']],
      ['GET', `/v1/api-keys/${randomUUID().slice(0, 35)}`, ['id']],
      ['DELETE', `/v1/api-keys/${randomUUID()}0`, ['id']],
    ] as const) {
      const body = method === 'PATCH' ? { json: { displayName: 'x' } } : {};
      const error = expectError(await stack.http.request(method, path, { as: owner, ...body }), 400, ErrorCode.ValidationFailed, `${method} ${path}`);
      assert.deepEqual(fieldPaths(error), [...expected]);
    }
  });

  it('a cursor this API did not issue answers 400 INVALID_CURSOR on every list', async () => {
    const notAnId = Buffer.from('not-an-id', 'utf8').toString('base64url');
    for (const path of ['/v1/users', '/v1/groups', `/v1/groups/${group.id}/members`, '/v1/api-keys', '/v1/audit-events']) {
      for (const cursor of ['bogus', notAnId, '!!!!']) {
        const response = await stack.http.get(`${path}?cursor=${encodeURIComponent(cursor)}`, { as: owner });
        expectError(response, 400, ErrorCode.InvalidCursor, `${path} cursor=${cursor}`);
      }
    }
    expectError(await stack.http.get('/v1/platform/tenants?cursor=bogus', { as: platform }), 400, ErrorCode.InvalidCursor, 'platform list');
    // An issued cursor works.
    const page = expectStatus(await stack.http.get<{ nextCursor: string | null }>('/v1/audit-events?limit=1', { as: owner }), 200);
    assert.ok(page.nextCursor, 'the audit list has more than one event');
    expectStatus(await stack.http.get(`/v1/audit-events?limit=1&cursor=${page.nextCursor}`, { as: owner }), 200);
  });

  it('an unknown route answers 404 ROUTE_NOT_FOUND, with or without credentials', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/nope'],
      ['POST', '/v1/users/whatever/else'],
      ['PUT', '/v1/users'],
      ['DELETE', '/v1/groups'],
      ['GET', '/v2/users'],
    ] as const) {
      expectError(await stack.http.request(method, path), 404, ErrorCode.RouteNotFound, `${method} ${path} anonymous`);
      expectError(await stack.http.request(method, path, { as: owner }), 404, ErrorCode.RouteNotFound, `${method} ${path} signed in`);
    }
  });

  it('X-Request-Id: a well-formed one is echoed (header and body), an unsafe one is replaced', async () => {
    const kept = await stack.http.get('/v1/nope', { headers: { 'x-request-id': 'e2e-abc.123' } });
    assert.equal(kept.headers.get('x-request-id'), 'e2e-abc.123');
    assert.equal(expectError(kept, 404, ErrorCode.RouteNotFound).requestId, 'e2e-abc.123');
    const success = await stack.http.get('/health/live', { headers: { 'x-request-id': 'e2e:ok_1' } });
    assert.equal(success.headers.get('x-request-id'), 'e2e:ok_1');

    for (const [label, offered] of [
      ['too long', 'a'.repeat(129)],
      ['spaces', 'e2e abc'],
      ['quotes and braces', 'x"};alert(1)//'],
      ['a slash', 'e2e/abc'],
      ['empty', ''],
    ] as const) {
      const response = await stack.http.get('/v1/nope', { headers: { 'x-request-id': offered } });
      const id = response.headers.get('x-request-id') ?? '';
      assert.notEqual(id, offered, `${label}: must be replaced`);
      assert.match(id, UUID, `${label}: replaced by a generated id`);
      assert.equal(expectError(response, 404, ErrorCode.RouteNotFound).requestId, id);
    }
    const longestKept = 'k'.repeat(128);
    assert.equal((await stack.http.get('/health/live', { headers: { 'x-request-id': longestKept } })).headers.get('x-request-id'), longestKept);
    const generated = await stack.http.get('/health/live');
    assert.match(generated.headers.get('x-request-id') ?? '', UUID, 'a request without one gets a generated id');
  });

  it('every route with a body refuses non-object bodies with a 400, never a 500 (routes from OpenAPI)', async () => {
    const document = expectStatus(await stack.http.get<OpenApiDocument>('/openapi.json'), 200);
    const withBody = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => operation.requestBody?.content?.['application/json'] !== undefined)
        .map(([method, operation]) => ({ method: method.toUpperCase(), path, emptyIsValid: !bodyHasRequiredFields(document, operation) })),
    );
    assert.ok(withBody.length >= 7, `expected the routes that take a body, found ${withBody.length}`);
    for (const { method, path, emptyIsValid } of withBody) {
      const url = path.replace('{id}', randomUUID()).replace('{userId}', randomUUID());
      const as = path.startsWith('/v1/platform/') ? platform : owner;
      // A body whose every field has a default accepts `{}`; the other shapes must still be refused.
      for (const raw of ['[]', '[{}]', '{"a":{"b":{"c":[1,2,{"d":null}]}}}', 'true', ...(emptyIsValid ? [] : ['{}'])]) {
        const response = await stack.http.request(method, url, { as, raw });
        assert.equal(response.status, 400, `${method} ${path} with ${raw}: expected 400, got ${response.status}: ${response.text}`);
        assertErrorShape(response, `${method} ${path} with ${raw}`);
        const code = (response.body as { code: string }).code;
        assert.ok(code === ErrorCode.ValidationFailed || code === ErrorCode.MalformedJson, `${method} ${path} with ${raw}: ${code}`);
      }
    }
  });

  // --- Product bugs: the following inputs currently crash the API with 500 INTERNAL. ---

  it('a NUL character in a text field answers 400 VALIDATION_FAILED, not 500 (groups, users, keys, tenants)', async () => {
    const cases: [string, () => Promise<HttpResponse<unknown>>][] = [
      ['POST /v1/groups name', () => stack.http.post('/v1/groups', { as: owner, json: { name: `nul\u0000${uniqueSuffix()}` } })],
      [
        'POST /v1/groups description',
        () => stack.http.post('/v1/groups', { as: owner, json: { name: `n-${uniqueSuffix()}`, description: 'a\u0000b' } }),
      ],
      ['PATCH /v1/groups/:id name', () => stack.http.patch(`/v1/groups/${group.id}`, { as: owner, json: { name: 'a\u0000b' } })],
      [
        'POST /v1/users displayName',
        () => stack.http.post('/v1/users', { as: owner, json: { email: `nul-${uniqueSuffix()}@e2e.example.com`, displayName: 'a\u0000b' } }),
      ],
      ['PATCH /v1/users/:id displayName', () => stack.http.patch(`/v1/users/${owner.user.id}`, { as: owner, json: { displayName: 'a\u0000b' } })],
      ['POST /v1/api-keys name', () => stack.http.post('/v1/api-keys', { as: owner, json: { name: 'a\u0000b', scopes: ['users:read'] } })],
      [
        'POST /v1/platform/tenants name',
        () => stack.http.post('/v1/platform/tenants', { as: platform, json: { slug: uniqueSlug('nul'), name: 'a\u0000b' } }),
      ],
    ];
    const failures: string[] = [];
    for (const [label, send] of cases) {
      const response = await send();
      assertErrorShape(response, label);
      if (response.status !== 400) failures.push(`${label}: ${response.status} ${(response.body as { code: string }).code}`);
    }
    assert.deepEqual(failures, [], 'text containing U+0000 must be refused as invalid input');
  });

  it('sign-in with a NUL character in the tenant answers 401/400, not 500 (unauthenticated)', async () => {
    const response = await stack.http.post('/v1/auth/login', { json: { tenant: 'acme\u0000', email: seeded.ownerEmail, password: 'whatever' } });
    assertErrorShape(response, 'login with NUL');
    assert.ok(response.status === 400 || response.status === 401, `expected 400 or 401, got ${response.status}: ${response.text}`);
  });

  it('audit filters with a NUL character or an out-of-range date answer 400, not 500', async () => {
    const failures: string[] = [];
    for (const query of ['action=a%00b', 'actorId=a%00b', 'from=0000-01-01T00:00:00Z', 'to=0000-12-31T23:59:59Z']) {
      const response = await stack.http.get(`/v1/audit-events?${query}`, { as: owner });
      assertErrorShape(response, query);
      if (response.status !== 400) failures.push(`${query}: ${response.status} ${(response.body as { code: string }).code}`);
    }
    assert.deepEqual(failures, [], 'bad audit filters must be refused as invalid input');
  });

  it('a session cookie in cookie-parser JSON form ("j:{...}") answers 401, not 500 (unauthenticated)', async () => {
    const failures: string[] = [];
    for (const cookie of ['quarry_session=j%3A%7B%22a%22%3A1%7D', 'quarry_session=j%3A%5B1%5D', 'quarry_session=j%3A%22x%22']) {
      for (const [method, path] of [['GET', '/v1/me'], ['GET', '/v1/auth/session'], ['POST', '/v1/auth/logout']] as const) {
        const response = await stack.http.request(method, path, { headers: { cookie } });
        assertErrorShape(response, `${method} ${path} ${cookie}`);
        if (response.status !== 401) failures.push(`${method} ${path} with ${decodeURIComponent(cookie)}: ${response.status}`);
      }
    }
    assert.deepEqual(failures, [], 'a cookie value that is not a plain string is simply not a session');
  });

  it('creating a tenant with a slug that exists answers 409 CONFLICT, not 500', async () => {
    const response = await stack.http.post('/v1/platform/tenants', { as: platform, json: { slug: seeded.slug, name: 'Duplicate' } });
    expectError(response, 409, ErrorCode.Conflict, 'duplicate slug');
  });

  it('no request in this file answered with a server error', () => {
    assert.ok(stack.http.history.length > 100, 'the file made its requests through the recorded client');
    stack.http.assertNoServerErrors();
  });
});
