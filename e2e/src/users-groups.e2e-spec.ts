import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@quarry/core';
import {
  auditEvents,
  createApiKey,
  createGroup,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  listAll,
  PASSWORD,
  requestId,
  signIn,
  startStack,
  uniqueEmail,
  uniqueSuffix,
  type ApiKey,
  type AuditEvent,
  type Group,
  type Page,
  type SeededTenant,
  type Session,
  type Stack,
  type User,
} from './harness';

/** The one audit event caused by the request with this X-Request-Id. */
async function eventFor(stack: Stack, as: Session, action: string, rid: string): Promise<AuditEvent> {
  const matches = (await auditEvents(stack, as, action)).filter((event) => event.requestId === rid);
  assert.equal(matches.length, 1, `expected one ${action} event for request ${rid}, found ${matches.length}`);
  return matches[0]!;
}

describe('users and groups: roles, owners, disabling, group membership, pagination, audit', () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;
  let admin: Session;
  let adminUser: User;

  before(async () => {
    // This file signs in often; the per-address sign-in limit is not what it tests.
    stack = await startStack({ env: { LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '1000' } });
    seeded = await createTenant(stack, 'ug');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
  });

  after(async () => {
    await stack?.stop();
  });

  it('an owner creates members and admins; creation is audited with actor and request id', async () => {
    const rid = requestId('user-create');
    const email = uniqueEmail('admin');
    const created = await stack.http.post<User>('/v1/users', {
      as: owner,
      json: { email: email.toUpperCase(), displayName: '  Ada Admin  ', role: 'admin', password: PASSWORD },
      headers: { 'x-request-id': rid },
    });
    adminUser = expectStatus(created, 201, 'create admin');
    assert.equal(created.headers.get('x-request-id'), rid);
    assert.equal(adminUser.email, email, 'emails are stored lower-case');
    assert.equal(adminUser.displayName, 'Ada Admin', 'display names are trimmed');
    assert.equal(adminUser.role, 'admin');
    assert.equal(adminUser.status, 'active');
    assert.equal(adminUser.lastLoginAt, null);
    assert.ok(!created.text.includes('password'), 'no password (or hash) in the response');

    const { user: member } = await createUser(stack, owner, 'member');
    assert.equal(member.role, 'member');
    const defaulted = expectStatus(
      await stack.http.post<User>('/v1/users', { as: owner, json: { email: uniqueEmail('default'), displayName: 'Default' } }),
      201,
      'create without a role',
    );
    assert.equal(defaulted.role, 'member', 'role defaults to member');

    admin = await signIn(stack, seeded.slug, email);
    assert.equal(admin.user.role, 'admin');
    const users = (await listAll<User>(stack, owner, '/v1/users')).map((user) => user.id);
    for (const id of [seeded.owner.id, adminUser.id, member.id, defaulted.id]) assert.ok(users.includes(id));

    expectError(
      await stack.http.post('/v1/users', { as: owner, json: { email, displayName: 'Again' } }),
      409,
      ErrorCode.Conflict,
      'same email twice',
    );

    const event = await eventFor(stack, owner, 'user.create', rid);
    assert.equal(event.outcome, 'success');
    assert.deepEqual(event.actor, { type: 'user', id: seeded.owner.id });
    assert.deepEqual(event.target, { type: 'user', id: adminUser.id });
    assert.equal((event.metadata as { role?: string }).role, 'admin');
  });

  it('an admin cannot create an owner nor promote anyone to owner (403)', async () => {
    const email = uniqueEmail('would-be-owner');
    expectError(
      await stack.http.post('/v1/users', { as: admin, json: { email, displayName: 'Nope', role: 'owner', password: PASSWORD } }),
      403,
      ErrorCode.Forbidden,
      'admin creates owner',
    );
    const users = await listAll<User>(stack, owner, '/v1/users');
    assert.ok(!users.some((user) => user.email === email), 'the refused user was not created');

    const { user: member } = await createUser(stack, admin, 'member');
    expectError(
      await stack.http.patch(`/v1/users/${member.id}`, { as: admin, json: { role: 'owner' } }),
      403,
      ErrorCode.Forbidden,
      'admin promotes to owner',
    );
    expectError(
      await stack.http.patch(`/v1/users/${adminUser.id}`, { as: admin, json: { role: 'owner' } }),
      403,
      ErrorCode.Forbidden,
      'admin promotes self',
    );
    const unchanged = expectStatus(await stack.http.get<User>(`/v1/users/${member.id}`, { as: owner }), 200);
    assert.equal(unchanged.role, 'member');
  });

  it('an admin cannot modify, disable or delete an owner (403)', async () => {
    for (const body of [{ displayName: 'Demoted by admin' }, { role: 'admin' }, { status: 'disabled' }]) {
      expectError(
        await stack.http.patch(`/v1/users/${seeded.owner.id}`, { as: admin, json: body }),
        403,
        ErrorCode.Forbidden,
        `admin PATCH owner ${JSON.stringify(body)}`,
      );
    }
    expectError(await stack.http.delete(`/v1/users/${seeded.owner.id}`, { as: admin }), 403, ErrorCode.Forbidden, 'admin deletes owner');
    const ownerNow = expectStatus(await stack.http.get<User>(`/v1/users/${seeded.owner.id}`, { as: owner }), 200);
    assert.equal(ownerNow.role, 'owner');
    assert.equal(ownerNow.status, 'active');
    assert.equal(ownerNow.displayName, seeded.owner.displayName);
    expectStatus(await stack.http.get('/v1/me', { as: owner }), 200, 'owner session still valid');
  });

  it('the last owner cannot be demoted or disabled (409 LAST_OWNER); with a second owner it can, audited as user.role_change', async () => {
    for (const body of [{ role: 'admin' }, { status: 'disabled' }, { role: 'member', status: 'disabled' }]) {
      expectError(
        await stack.http.patch(`/v1/users/${seeded.owner.id}`, { as: owner, json: body }),
        409,
        ErrorCode.LastOwner,
        `last owner ${JSON.stringify(body)}`,
      );
    }
    expectError(await stack.http.delete(`/v1/users/${seeded.owner.id}`, { as: owner }), 403, ErrorCode.Forbidden, 'delete yourself');

    const { user: second } = await createUser(stack, owner, 'owner', { label: 'second-owner' });
    const rid = requestId('role-change');
    const demoted = expectStatus(
      await stack.http.patch<User>(`/v1/users/${second.id}`, { as: owner, json: { role: 'admin' }, headers: { 'x-request-id': rid } }),
      200,
      'demote the second owner',
    );
    assert.equal(demoted.role, 'admin');
    const event = await eventFor(stack, owner, 'user.role_change', rid);
    assert.deepEqual(event.actor, { type: 'user', id: seeded.owner.id });
    assert.deepEqual(event.target, { type: 'user', id: second.id });
    assert.deepEqual((event.metadata as { changes?: unknown }).changes, { role: { from: 'owner', to: 'admin' } });
    // Now the first owner is the last one again.
    expectError(
      await stack.http.patch(`/v1/users/${seeded.owner.id}`, { as: owner, json: { role: 'admin' } }),
      409,
      ErrorCode.LastOwner,
      'last owner again',
    );
  });

  it('two owners demoting each other at the same moment never leave the tenant without an active owner', async () => {
    // A check-then-write race: each request counts "another active owner" before either commits.
    const rounds = 6;
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const tenant = await createTenant(stack, 'race');
      const first = await signIn(stack, tenant.slug, tenant.ownerEmail);
      const { user: secondUser, email } = await createUser(stack, first, 'owner', { label: 'race-owner' });
      const second = await signIn(stack, tenant.slug, email);
      const [a, b] = await Promise.all([
        stack.http.patch(`/v1/users/${secondUser.id}`, { as: first, json: { role: 'admin' } }),
        stack.http.patch(`/v1/users/${tenant.owner.id}`, { as: second, json: { role: 'admin' } }),
      ]);
      for (const response of [a, b]) {
        // 409: the other owner was already gone; 403: the caller had already been demoted when it authenticated.
        assert.ok([200, 403, 409].includes(response.status), `unexpected ${response.status}: ${response.text}`);
      }
      // Both are at least admins afterwards, so either may look.
      const users = await listAll<User>(stack, first, '/v1/users');
      const owners = users.filter((user) => user.role === 'owner' && user.status === 'active').length;
      outcomes.push(`${a.status}/${b.status} owners=${owners}`);
      if (a.status === 200 && b.status === 200) break;
    }
    assert.ok(
      outcomes.every((outcome) => !outcome.endsWith('owners=0')),
      `a round ended with no active owner: both demotions passed the last-owner check (rounds: ${outcomes.join('; ')})`,
    );
  });

  it('disabling a user ends their sessions and refuses their API keys (401 API_KEY_REVOKED)', async () => {
    const { user, email } = await createUser(stack, owner, 'member', { label: 'to-disable' });
    const session = await signIn(stack, seeded.slug, email);
    const { key, token } = await createApiKey(stack, session, ['groups:read']);
    expectStatus(await stack.http.get('/v1/me', { as: session }), 200, 'session before');
    expectStatus(await stack.http.get('/v1/groups', { as: { bearer: token } }), 200, 'key before');

    const disabled = expectStatus(
      await stack.http.patch<User>(`/v1/users/${user.id}`, { as: admin, json: { status: 'disabled' } }),
      200,
      'admin disables a member',
    );
    assert.equal(disabled.status, 'disabled');
    expectError(await stack.http.get('/v1/me', { as: session }), 401, ErrorCode.Unauthenticated, 'session after disabling');
    expectError(await stack.http.get('/v1/groups', { as: { bearer: token } }), 401, ErrorCode.ApiKeyRevoked, 'key after disabling');
    expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email, password: PASSWORD } }),
      401,
      ErrorCode.InvalidCredentials,
      'a disabled user cannot sign in',
    );
    const listed = expectStatus(await stack.http.get<ApiKey>(`/v1/api-keys/${key.id}`, { as: owner }), 200);
    assert.equal(listed.createdById, user.id);

    // Re-enabling lets the person sign in again, but the old session stays dead.
    expectStatus(await stack.http.patch(`/v1/users/${user.id}`, { as: admin, json: { status: 'active' } }), 200, 're-enable');
    expectError(await stack.http.get('/v1/me', { as: session }), 401, ErrorCode.Unauthenticated, 'old session after re-enabling');
    const again = await signIn(stack, seeded.slug, email);
    expectStatus(await stack.http.get('/v1/me', { as: again }), 200, 'new session after re-enabling');
  });

  it('API keys refused because their user was disabled stay revoked after the user is re-enabled', async () => {
    const { user, email } = await createUser(stack, owner, 'member', { label: 'key-resurrect' });
    const session = await signIn(stack, seeded.slug, email);
    const { key, token } = await createApiKey(stack, session, ['groups:read']);
    expectStatus(await stack.http.patch(`/v1/users/${user.id}`, { as: owner, json: { status: 'disabled' } }), 200, 'disable');
    expectError(await stack.http.get('/v1/groups', { as: { bearer: token } }), 401, ErrorCode.ApiKeyRevoked, 'while disabled');
    expectStatus(await stack.http.patch(`/v1/users/${user.id}`, { as: owner, json: { status: 'active' } }), 200, 're-enable');
    const view = expectStatus(await stack.http.get<ApiKey>(`/v1/api-keys/${key.id}`, { as: owner }), 200);
    const afterReenable = await stack.http.get('/v1/groups', { as: { bearer: token } });
    // Sessions of a disabled user are revoked for good; a key that answered API_KEY_REVOKED must be revoked too,
    // and its view must say so, rather than coming back to life when the user is re-enabled.
    assert.ok(view.revokedAt, `the key's view must show it revoked once disabling refused it (revokedAt=${String(view.revokedAt)})`);
    expectError(afterReenable, 401, ErrorCode.ApiKeyRevoked, 'key after re-enabling');
  });

  it('group CRUD and membership: add is idempotent, members are listed, removal and deletion work', async () => {
    const { user: alice } = await createUser(stack, owner, 'member', { label: 'alice', password: null });
    const { user: bob } = await createUser(stack, owner, 'viewer', { label: 'bob', password: null });
    const name = `Research ${uniqueSuffix()}`;
    const createRid = requestId('group-create');
    const created = await stack.http.post<Group>('/v1/groups', {
      as: admin,
      json: { name: `  ${name}  `, description: 'Reads papers' },
      headers: { 'x-request-id': createRid },
    });
    const group = expectStatus(created, 201, 'create group');
    assert.equal(group.name, name, 'names are trimmed');
    assert.equal(group.description, 'Reads papers');
    assert.equal(group.memberCount, 0);
    assert.deepEqual(expectStatus(await stack.http.get<Group>(`/v1/groups/${group.id}`, { as: owner }), 200), group);

    const renamed = expectStatus(
      await stack.http.patch<Group>(`/v1/groups/${group.id}`, { as: admin, json: { name: `${name} II` } }),
      200,
      'rename',
    );
    assert.equal(renamed.name, `${name} II`);
    assert.equal(renamed.description, 'Reads papers', 'a partial update keeps the other fields');

    const addRid = requestId('member-add');
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${alice.id}`, { as: admin, headers: { 'x-request-id': addRid } }), 204, 'add');
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${alice.id}`, { as: admin }), 204, 'add again');
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${bob.id}`, { as: admin }), 204, 'add bob');
    expectError(
      await stack.http.put(`/v1/groups/${group.id}/members/${randomUUID()}`, { as: admin }),
      404,
      ErrorCode.NotFound,
      'add an unknown user',
    );
    assert.equal(expectStatus(await stack.http.get<Group>(`/v1/groups/${group.id}`, { as: owner }), 200).memberCount, 2);
    const members = await listAll<User>(stack, owner, `/v1/groups/${group.id}/members`);
    assert.deepEqual(members.map((user) => user.id).sort(), [alice.id, bob.id].sort());
    const firstPage = expectStatus(await stack.http.get<Page<User>>(`/v1/groups/${group.id}/members?limit=1`, { as: owner }), 200);
    assert.equal(firstPage.items.length, 1);
    assert.ok(firstPage.nextCursor);

    const addEvents = (await auditEvents(stack, owner, 'group.member_add')).filter(
      (event) => event.target?.id === group.id && (event.metadata as { userId?: string }).userId === alice.id,
    );
    assert.equal(addEvents.length, 1, 'adding twice records one group.member_add');
    assert.equal(addEvents[0]!.requestId, addRid);
    assert.deepEqual(addEvents[0]!.actor, { type: 'user', id: adminUser.id });
    const createEvent = await eventFor(stack, owner, 'group.create', createRid);
    assert.deepEqual(createEvent.actor, { type: 'user', id: adminUser.id });
    assert.deepEqual(createEvent.target, { type: 'group', id: group.id });

    expectStatus(await stack.http.delete(`/v1/groups/${group.id}/members/${alice.id}`, { as: admin }), 204, 'remove');
    expectError(await stack.http.delete(`/v1/groups/${group.id}/members/${alice.id}`, { as: admin }), 404, ErrorCode.NotFound, 'remove again');
    const remaining = await listAll<User>(stack, owner, `/v1/groups/${group.id}/members`);
    assert.deepEqual(remaining.map((user) => user.id), [bob.id]);

    // Deleting a user takes their memberships with them.
    expectStatus(await stack.http.delete(`/v1/users/${bob.id}`, { as: admin }), 204, 'delete bob');
    expectError(await stack.http.get(`/v1/users/${bob.id}`, { as: owner }), 404, ErrorCode.NotFound);
    assert.equal(expectStatus(await stack.http.get<Group>(`/v1/groups/${group.id}`, { as: owner }), 200).memberCount, 0);

    expectStatus(await stack.http.delete(`/v1/groups/${group.id}`, { as: admin }), 204, 'delete group');
    expectError(await stack.http.get(`/v1/groups/${group.id}`, { as: owner }), 404, ErrorCode.NotFound, 'deleted group');
    expectError(await stack.http.delete(`/v1/groups/${group.id}`, { as: admin }), 404, ErrorCode.NotFound, 'delete again');
    expectError(await stack.http.get(`/v1/groups/${group.id}/members`, { as: owner }), 404, ErrorCode.NotFound, 'members of a deleted group');
  });

  it('members and viewers cannot manage users or groups (403 FORBIDDEN)', async () => {
    const { email: memberEmail } = await createUser(stack, owner, 'member', { label: 'plain' });
    const member = await signIn(stack, seeded.slug, memberEmail);
    const group = await createGroup(stack, owner);
    expectStatus(await stack.http.get('/v1/groups', { as: member }), 200, 'members read groups');
    expectError(await stack.http.get('/v1/users', { as: member }), 403, ErrorCode.Forbidden, 'member lists users');
    expectError(await stack.http.post('/v1/groups', { as: member, json: { name: 'mine' } }), 403, ErrorCode.Forbidden, 'member creates group');
    expectError(await stack.http.put(`/v1/groups/${group.id}/members/${member.user.id}`, { as: member }), 403, ErrorCode.Forbidden, 'member joins');
    expectError(await stack.http.get(`/v1/groups/${group.id}/members`, { as: member }), 403, ErrorCode.Forbidden, 'member lists members');
    expectError(await stack.http.get('/v1/audit-events', { as: member }), 403, ErrorCode.Forbidden, 'member reads audit');
    expectError(
      await stack.http.patch(`/v1/users/${member.user.id}`, { as: member, json: { role: 'admin' } }),
      403,
      ErrorCode.Forbidden,
      'member promotes self',
    );
  });

  it('a duplicate group name answers 409 CONFLICT, on create and on rename', async () => {
    const name = `Dup ${uniqueSuffix()}`;
    const first = await createGroup(stack, owner, name);
    expectError(await stack.http.post('/v1/groups', { as: owner, json: { name } }), 409, ErrorCode.Conflict, 'same name');
    expectError(await stack.http.post('/v1/groups', { as: owner, json: { name: ` ${name} ` } }), 409, ErrorCode.Conflict, 'same name, padded');
    const other = await createGroup(stack, owner);
    expectError(await stack.http.patch(`/v1/groups/${other.id}`, { as: owner, json: { name } }), 409, ErrorCode.Conflict, 'rename onto it');
    const groups = await listAll<Group>(stack, owner, '/v1/groups');
    assert.equal(groups.filter((group) => group.name === name).length, 1);
    assert.equal(groups.find((group) => group.id === other.id)?.name, other.name, 'the refused rename changed nothing');
    expectStatus(await stack.http.patch(`/v1/groups/${first.id}`, { as: owner, json: { name } }), 200, 'renaming to its own name');
  });

  it('pagination: limit=2 walks all 5 groups through nextCursor, in order, without duplicates', async () => {
    const fresh = await createTenant(stack, 'pages');
    const session = await signIn(stack, fresh.slug, fresh.ownerEmail);
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) created.push((await createGroup(stack, session, `page-${index}`)).id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const body: Page<Group> = expectStatus(await stack.http.get<Page<Group>>(`/v1/groups${query}`, { as: session }), 200, `page ${page}`);
      sizes.push(body.items.length);
      seen.push(...body.items.map((group) => group.id));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.equal(new Set(seen).size, seen.length, 'no group appears twice');
    assert.deepEqual(seen, created, 'every group, in creation order');
    const exact = expectStatus(await stack.http.get<Page<Group>>('/v1/groups?limit=5', { as: session }), 200);
    assert.equal(exact.items.length, 5);
    assert.equal(exact.nextCursor, null, 'no next page when the page holds the last item');

    // The audit trail pages newest first, with the same cursor convention.
    const everything = expectStatus(await stack.http.get<Page<AuditEvent>>('/v1/audit-events?limit=200', { as: session }), 200).items;
    assert.ok(everything.length >= 7, `the tenant's events so far: ${everything.length}`);
    const walked = await listAll<AuditEvent>(stack, session, '/v1/audit-events', 3);
    assert.deepEqual(walked.map((event) => event.id), everything.map((event) => event.id), 'paging gives the same events, once each');
    const times = walked.map((event) => Date.parse(event.createdAt));
    assert.ok(times.every((time, index) => index === 0 || time <= times[index - 1]!), 'newest first');
    const groupEvents = expectStatus(await stack.http.get<Page<AuditEvent>>('/v1/audit-events?action=group.create&limit=2', { as: session }), 200);
    assert.equal(groupEvents.items.length, 2);
    assert.ok(groupEvents.items.every((event) => event.action === 'group.create'));
    assert.ok(groupEvents.nextCursor, 'a filtered list pages too');
  });

  it('no request in this file answered with a server error', () => {
    assert.ok(stack.http.history.length > 20, 'the requests went through the recorded client');
    stack.http.assertNoServerErrors();
  });
});
