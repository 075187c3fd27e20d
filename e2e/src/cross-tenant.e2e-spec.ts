import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@quarry/core';
import {
  createApiKey,
  createGroup,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  listAll,
  PASSWORD,
  signIn,
  startStack,
  type ApiKey,
  type AuditEvent,
  type Credentials,
  type Group,
  type Me,
  type Page,
  type SeededTenant,
  type Session,
  type Stack,
  type User,
} from './harness';
import { createCollection, upload, type Collection, type DocumentBody } from './ingestion-support';

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

/** One request aimed at the other tenant: path parameters and, where the route needs one, a valid body. */
interface Attempt {
  label: string;
  params: { id: string; userId?: string };
  body?: Record<string, unknown>;
  query?: string;
}

interface TenantFixture {
  seeded: SeededTenant;
  owner: Session;
  member: User;
  group: Group;
  key: ApiKey;
  token: string;
  collection: Collection;
  document: DocumentBody;
  evalDataset: { id: string };
  evalRun: { id: string };
  conversationId: string;
  messageId: string;
  jobId: string;
}

describe('cross-tenant isolation over HTTP: tenant A can neither see nor touch tenant B', () => {
  let stack: Stack;
  let a: TenantFixture;
  let b: TenantFixture;
  let bBefore: {
    owner: User;
    member: User;
    group: Group;
    members: string[];
    key: ApiKey;
    users: string[];
    groups: string[];
    collection: Collection;
    documents: string[];
    evalDataset: unknown;
    evalRuns: string[];
    conversation: unknown;
    trace: unknown;
    job: unknown;
  };

  async function fixture(label: string): Promise<TenantFixture> {
    const seeded = await createTenant(stack, label);
    const owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
    const { user: member } = await createUser(stack, owner, 'member', { password: null });
    const group = await createGroup(stack, owner, `${label}-engineering`);
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${member.id}`, { as: owner }), 204, 'add member');
    const me = expectStatus(await stack.http.get<Me>('/v1/me', { as: owner }), 200);
    // The key holds every permission its creator has: an "admin key" in the fullest sense.
    const { key, token } = await createApiKey(stack, owner, me.permissions, { name: `${label}-full-key` });
    const collection = await createCollection(stack, owner, `${label}-docs`);
    const uploaded = await upload(stack, owner, collection.id, [{ name: `${label}.txt`, content: `Private notes of ${label}.` }]);
    const document = uploaded.body.items?.[0]?.document;
    assert.ok(document, `upload for ${label}: ${JSON.stringify(uploaded.body)}`);
    const form = new FormData();
    form.set('name', `${label}-questions`);
    form.set('dataset', new Blob([JSON.stringify({ id: 'q1', query: `notes of ${label}`, relevant: [`${label}.txt`] })]), 'questions.jsonl');
    const datasetResponse = await fetch(`${stack.api.url}/v1/evals/datasets`, {
      method: 'POST',
      headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(datasetResponse.status, 201, `eval dataset for ${label}`);
    const evalDataset = ((await datasetResponse.json()) as { dataset: { id: string } }).dataset;
    const evalRun = expectStatus(
      await stack.http.post<{ id: string }>('/v1/evals/runs', { as: owner, json: { datasetId: evalDataset.id, config: { mode: 'lexical' } } }),
      202,
      `eval run for ${label}`,
    );
    // A question no passage matches is answered "nothing found" without calling the model, so the fixture is quick.
    const answer = expectStatus(
      await stack.http.post<{ conversationId: string; messageId: string }>('/v1/chat', {
        as: owner,
        json: { message: 'zyzzyva quokka xylophone', mode: 'lexical', stream: false },
      }),
      200,
      `chat for ${label}`,
    );
    const job = expectStatus(
      await stack.http.post<{ id: string }>('/v1/jobs', { as: owner, json: { questions: ['zyzzyva quokka'], mode: 'lexical' } }),
      202,
      `batch job for ${label}`,
    );
    return {
      seeded,
      owner,
      member,
      group: { ...group, memberCount: 1 },
      key,
      token,
      collection,
      document,
      evalDataset,
      evalRun,
      conversationId: answer.conversationId,
      messageId: answer.messageId,
      jobId: job.id,
    };
  }

  /** Every route of the OpenAPI document whose path takes an {id}, mapped to the attempts made against it. */
  function attempts(): Record<string, Attempt[]> {
    const memberPairs: Attempt[] = [
      { label: 'B group, B user', params: { id: b.group.id, userId: b.member.id } },
      { label: 'A group, B user', params: { id: a.group.id, userId: b.member.id } },
      { label: 'B group, A user', params: { id: b.group.id, userId: a.member.id } },
    ];
    return {
      'GET /v1/users/{id}': [
        { label: 'B member', params: { id: b.member.id } },
        { label: 'B owner', params: { id: b.seeded.owner.id } },
      ],
      'PATCH /v1/users/{id}': [
        { label: 'B member', params: { id: b.member.id }, body: { displayName: 'hijacked', role: 'viewer', status: 'disabled' } },
        { label: 'B owner', params: { id: b.seeded.owner.id }, body: { status: 'disabled' } },
      ],
      'DELETE /v1/users/{id}': [
        { label: 'B member', params: { id: b.member.id } },
        { label: 'B owner', params: { id: b.seeded.owner.id } },
      ],
      'GET /v1/groups/{id}': [{ label: 'B group', params: { id: b.group.id } }],
      'PATCH /v1/groups/{id}': [{ label: 'B group', params: { id: b.group.id }, body: { name: 'hijacked', description: 'hijacked' } }],
      'DELETE /v1/groups/{id}': [{ label: 'B group', params: { id: b.group.id } }],
      'GET /v1/groups/{id}/members': [{ label: 'B group', params: { id: b.group.id } }],
      'PUT /v1/groups/{id}/members/{userId}': memberPairs,
      'DELETE /v1/groups/{id}/members/{userId}': memberPairs,
      'GET /v1/api-keys/{id}': [{ label: 'B key', params: { id: b.key.id } }],
      'DELETE /v1/api-keys/{id}': [{ label: 'B key', params: { id: b.key.id } }],
      'GET /v1/collections/{id}': [{ label: 'B collection', params: { id: b.collection.id } }],
      'PATCH /v1/collections/{id}': [{ label: 'B collection', params: { id: b.collection.id }, body: { name: 'hijacked' } }],
      'DELETE /v1/collections/{id}': [{ label: 'B collection', params: { id: b.collection.id } }],
      'POST /v1/collections/{id}/documents': [{ label: 'B collection', params: { id: b.collection.id } }],
      'POST /v1/collections/{id}/sources': [
        { label: 'B collection', params: { id: b.collection.id }, body: { url: 'https://example.com/hijack' } },
      ],
      'POST /v1/collections/{id}/reindex': [{ label: 'B collection', params: { id: b.collection.id }, body: {} }],
      'GET /v1/collections/{id}/events': [{ label: 'B collection', params: { id: b.collection.id } }],
      'GET /v1/documents/{id}': [{ label: 'B document', params: { id: b.document.id } }],
      'DELETE /v1/documents/{id}': [{ label: 'B document', params: { id: b.document.id } }],
      'POST /v1/documents/{id}/retry': [{ label: 'B document', params: { id: b.document.id } }],
      'POST /v1/documents/{id}/refresh': [{ label: 'B document', params: { id: b.document.id } }],
      'GET /v1/collections/{id}/access': [{ label: 'B collection', params: { id: b.collection.id } }],
      'PUT /v1/collections/{id}/access': [{ label: 'B collection', params: { id: b.collection.id }, body: { everyone: true } }],
      'GET /v1/documents/{id}/access': [{ label: 'B document', params: { id: b.document.id } }],
      'PUT /v1/documents/{id}/access': [{ label: 'B document', params: { id: b.document.id }, body: { everyone: true } }],
      'DELETE /v1/documents/{id}/access': [{ label: 'B document', params: { id: b.document.id } }],
      'GET /v1/documents/{id}/access/explain': [
        { label: 'B document, A user', params: { id: b.document.id }, query: `userId=${a.member.id}` },
        { label: 'A document, B user', params: { id: a.document.id }, query: `userId=${b.member.id}` },
      ],
      'GET /v1/evals/datasets/{id}': [{ label: 'B dataset', params: { id: b.evalDataset.id } }],
      'PATCH /v1/evals/datasets/{id}': [{ label: 'B dataset', params: { id: b.evalDataset.id }, body: { description: 'hijacked' } }],
      'DELETE /v1/evals/datasets/{id}': [{ label: 'B dataset', params: { id: b.evalDataset.id } }],
      'PUT /v1/evals/datasets/{id}/baseline': [
        { label: 'B dataset', params: { id: b.evalDataset.id }, body: { runId: null } },
        { label: 'A dataset, B run', params: { id: a.evalDataset.id }, body: { runId: b.evalRun.id } },
      ],
      'GET /v1/evals/runs/{id}': [{ label: 'B run', params: { id: b.evalRun.id } }],
      'GET /v1/evals/runs/{id}/results': [{ label: 'B run', params: { id: b.evalRun.id } }],
      'GET /v1/evals/runs/{id}/gate': [{ label: 'B run', params: { id: b.evalRun.id } }],
      'DELETE /v1/evals/runs/{id}': [{ label: 'B run', params: { id: b.evalRun.id } }],
      'GET /v1/conversations/{id}': [{ label: 'B conversation', params: { id: b.conversationId } }],
      'DELETE /v1/conversations/{id}': [{ label: 'B conversation', params: { id: b.conversationId } }],
      'GET /v1/messages/{id}/trace': [{ label: 'B answer', params: { id: b.messageId } }],
      'POST /v1/messages/{id}/feedback': [{ label: 'B answer', params: { id: b.messageId }, body: { rating: 'down', comment: 'hijacked' } }],
      'POST /v1/messages/{id}/replay': [{ label: 'B answer', params: { id: b.messageId }, body: {} }],
      'GET /v1/jobs/{id}': [{ label: 'B job', params: { id: b.jobId } }],
    };
  }

  async function snapshotB(): Promise<typeof bBefore> {
    const as = b.owner;
    return {
      owner: expectStatus(await stack.http.get<User>(`/v1/users/${b.seeded.owner.id}`, { as }), 200),
      member: expectStatus(await stack.http.get<User>(`/v1/users/${b.member.id}`, { as }), 200),
      group: expectStatus(await stack.http.get<Group>(`/v1/groups/${b.group.id}`, { as }), 200),
      members: (await listAll<User>(stack, as, `/v1/groups/${b.group.id}/members`)).map((user) => user.id).sort(),
      key: expectStatus(await stack.http.get<ApiKey>(`/v1/api-keys/${b.key.id}`, { as }), 200),
      users: (await listAll<User>(stack, as, '/v1/users')).map((user) => user.id).sort(),
      groups: (await listAll<Group>(stack, as, '/v1/groups')).map((group) => group.id).sort(),
      collection: expectStatus(await stack.http.get<Collection>(`/v1/collections/${b.collection.id}`, { as }), 200),
      documents: (await listAll<DocumentBody>(stack, as, '/v1/documents')).map((doc) => `${doc.id}:${doc.name}:${doc.version}`).sort(),
      evalDataset: expectStatus(await stack.http.get(`/v1/evals/datasets/${b.evalDataset.id}`, { as }), 200),
      evalRuns: (await listAll<{ id: string }>(stack, as, '/v1/evals/runs')).map((run) => run.id).sort(),
      conversation: expectStatus(await stack.http.get(`/v1/conversations/${b.conversationId}`, { as }), 200),
      trace: expectStatus(await stack.http.get(`/v1/messages/${b.messageId}/trace`, { as }), 200),
      job: expectStatus(await stack.http.get<{ id: string; status: string }>(`/v1/jobs/${b.jobId}`, { as }), 200).id,
    };
  }

  before(async () => {
    stack = await startStack();
    a = await fixture('xa');
    b = await fixture('xb');
    bBefore = await snapshotB();
    assert.deepEqual(bBefore.members, [b.member.id]);
  });

  after(async () => {
    await stack?.stop();
  });

  it('the attempt table covers every OpenAPI route whose path takes an {id} (a new route needs a cross-tenant case)', async () => {
    const document = expectStatus(await stack.http.get<OpenApiDocument>('/openapi.json'), 200, 'GET /openapi.json');
    const documented = Object.entries(document.paths)
      .filter(([path]) => path.includes('{id}'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    assert.ok(documented.length >= 11, `expected the id routes in the document, found ${documented.join(', ')}`);
    assert.deepEqual(Object.keys(attempts()).sort(), documented, 'every {id} route must have cross-tenant attempts, and only those');
  });

  for (const credential of ['session', 'API key'] as const) {
    it(`with A's ${credential}, every {id} route answers 404 NOT_FOUND for B's ids`, async () => {
      const as: Credentials = credential === 'session' ? a.owner : { bearer: a.token };
      const table = attempts();
      for (const [route, list] of Object.entries(table)) {
        assert.ok(list.length > 0, `${route} has no attempts`);
        const [method, template] = route.split(' ') as [string, string];
        for (const attempt of list) {
          const path = template.replace('{id}', attempt.params.id).replace('{userId}', attempt.params.userId ?? '');
          const url = attempt.query ? `${path}?${attempt.query}` : path;
          assert.ok(!url.includes('{'), `unfilled parameter in ${url}`);
          const response = await stack.http.request(method, url, { as, ...(attempt.body ? { json: attempt.body } : {}) });
          expectError(response, 404, ErrorCode.NotFound, `${credential}: ${route} (${attempt.label})`);
        }
      }
    });
  }

  it("B's data is unchanged afterwards (seen through B's own session), and B's key still works", async () => {
    const now = await snapshotB();
    assert.deepEqual(now, bBefore);
    const me = expectStatus(await stack.http.get<Me>('/v1/me', { as: { bearer: b.token } }), 200, "B's key");
    assert.equal(me.tenant.id, b.seeded.tenant.id);
    expectStatus(await stack.http.get('/v1/me', { as: b.owner }), 200, "B's session");
  });

  it("lists with A's credentials never contain B's ids", async () => {
    const bAudit = (await listAll<AuditEvent>(stack, b.owner, '/v1/audit-events')).map((event) => event.id);
    assert.ok(bAudit.length > 0);
    const bIds = new Set([...bBefore.users, ...bBefore.groups, b.key.id, ...bAudit, b.seeded.tenant.id, b.collection.id, b.document.id]);
    for (const credential of ['session', 'API key'] as const) {
      const as: Credentials = credential === 'session' ? a.owner : { bearer: a.token };
      const lists: [string, string[], string][] = [
        ['/v1/users', (await listAll<User>(stack, as, '/v1/users')).map((user) => user.id), a.member.id],
        ['/v1/groups', (await listAll<Group>(stack, as, '/v1/groups')).map((group) => group.id), a.group.id],
        [
          `/v1/groups/${a.group.id}/members`,
          (await listAll<User>(stack, as, `/v1/groups/${a.group.id}/members`)).map((user) => user.id),
          a.member.id,
        ],
        ['/v1/api-keys', (await listAll<ApiKey>(stack, as, '/v1/api-keys')).map((key) => key.id), a.key.id],
        ['/v1/audit-events', (await listAll<AuditEvent>(stack, as, '/v1/audit-events')).map((event) => event.id), ''],
        ['/v1/collections', (await listAll<Collection>(stack, as, '/v1/collections')).map((collection) => collection.id), a.collection.id],
        ['/v1/documents', (await listAll<DocumentBody>(stack, as, '/v1/documents')).map((doc) => doc.id), a.document.id],
      ];
      for (const [path, ids, ownId] of lists) {
        assert.ok(ids.length > 0, `${credential} ${path}: A sees its own data`);
        if (ownId) assert.ok(ids.includes(ownId), `${credential} ${path}: contains A's ${ownId}`);
        const leaked = ids.filter((id) => bIds.has(id));
        assert.deepEqual(leaked, [], `${credential} ${path} leaks B's ids`);
      }
      const me = expectStatus(await stack.http.get<Me>('/v1/me', { as }), 200);
      assert.equal(me.tenant.id, a.seeded.tenant.id);
    }
    // A page cursor made from one of B's ids only moves the position; it never reveals B's rows.
    const cursor = Buffer.from(b.member.id, 'utf8').toString('base64url');
    const page = expectStatus(await stack.http.get<Page<User>>(`/v1/users?cursor=${cursor}`, { as: a.owner }), 200);
    assert.ok(page.items.every((user) => !bIds.has(user.id)));
  });

  it("B's people cannot sign in to A's tenant, and A's session never reaches B", async () => {
    expectError(
      await stack.http.post('/v1/auth/login', { json: { tenant: a.seeded.slug, email: b.seeded.ownerEmail, password: PASSWORD } }),
      401,
      ErrorCode.InvalidCredentials,
      "B's owner at A's tenant",
    );
    const session = expectStatus(
      await stack.http.get<{ tenant: { id: string }; user: User }>('/v1/auth/session', { as: a.owner }),
      200,
    );
    assert.equal(session.tenant.id, a.seeded.tenant.id);
    assert.equal(session.user.id, a.seeded.owner.id);
  });

  it('no request in this file answered with a server error', () => {
    stack.http.assertNoServerErrors();
  });
});
