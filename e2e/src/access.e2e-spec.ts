import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGroup, createTenant, createUser, expectError, expectStatus, signIn, startStack, type Group, type Session, type Stack } from './harness';
import { createCollection, ownerQuery, upload, waitForStatus, type DocumentBody } from './ingestion-support';

interface Explanation {
  allowed: boolean;
  source: 'document' | 'collection';
  matchedBy: string[];
  reason: string;
}

describe('document permissions: readers by user, group or everyone, enforced on every read', () => {
  let stack: Stack;
  let storageDir: string;
  let admin: Session;
  let reader: Session;
  let outsider: Session;
  let group: Group;
  let collectionId: string;
  let documentId: string;

  async function visibleIds(as: Session): Promise<string[]> {
    const page = expectStatus(await stack.http.get<{ items: DocumentBody[] }>(`/v1/documents?collectionId=${collectionId}`, { as }), 200);
    return page.items.map((doc) => doc.id);
  }

  async function chunkAcl(): Promise<string[]> {
    const rows = await ownerQuery<{ acl: string[] }>('SELECT DISTINCT acl FROM chunks WHERE document_id = $1', [documentId]);
    assert.equal(rows.length, 1, 'every chunk of a document carries the same ACL');
    return rows[0]!.acl;
  }

  async function explain(userId: string): Promise<Explanation> {
    return expectStatus(await stack.http.get<Explanation>(`/v1/documents/${documentId}/access/explain?userId=${userId}`, { as: admin }), 200);
  }

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-acl-'));
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir } });
    const tenant = await createTenant(stack, 'acl');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    const readerUser = await createUser(stack, admin, 'member', { label: 'reader' });
    const outsiderUser = await createUser(stack, admin, 'member', { label: 'outsider' });
    reader = await signIn(stack, tenant.slug, readerUser.email);
    outsider = await signIn(stack, tenant.slug, outsiderUser.email);
    group = await createGroup(stack, admin, 'research');
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${reader.user.id}`, { as: admin }), 204);
    const collection = await createCollection(stack, admin, 'restricted');
    collectionId = collection.id;
    expectStatus(
      await stack.http.put(`/v1/collections/${collectionId}/access`, { as: admin, json: { everyone: false, groups: [group.id] } }),
      200,
    );
    const uploaded = await upload(stack, admin, collectionId, [{ name: 'secret.md', content: '# Secret\n\nThe formula is confidential.' }]);
    documentId = uploaded.body.items![0]!.document!.id;
    await waitForStatus(stack, admin, documentId, ['indexed']);
  });

  after(async () => {
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('a collection created without an access list is readable by everyone in the tenant', async () => {
    const open = await createCollection(stack, admin, 'open');
    const access = expectStatus(await stack.http.get<{ everyone: boolean }>(`/v1/collections/${open.id}/access`, { as: admin }), 200);
    assert.equal(access.everyone, true);
  });

  it('members outside the grant never see the document; members inside do', async () => {
    assert.deepEqual(await visibleIds(reader), [documentId]);
    assert.deepEqual(await visibleIds(outsider), []);
    expectError(await stack.http.get(`/v1/documents/${documentId}`, { as: outsider }), 404, 'NOT_FOUND');
    assert.deepEqual(await chunkAcl(), [`g:${group.id}`]);
    const yes = await explain(reader.user.id);
    assert.equal(yes.allowed, true);
    assert.equal(yes.source, 'collection');
    assert.deepEqual(yes.matchedBy, [`g:${group.id}`]);
    const no = await explain(outsider.user.id);
    assert.equal(no.allowed, false);
    assert.match(no.reason, /Denied/);
  });

  it('a group membership change takes effect on the next request', async () => {
    expectStatus(await stack.http.put(`/v1/groups/${group.id}/members/${outsider.user.id}`, { as: admin }), 204);
    assert.deepEqual(await visibleIds(outsider), [documentId]);
    expectStatus(await stack.http.delete(`/v1/groups/${group.id}/members/${outsider.user.id}`, { as: admin }), 204);
    assert.deepEqual(await visibleIds(outsider), []);
  });

  it('a document’s own access list overrides its collection’s, at once, down to its chunks', async () => {
    const set = await stack.http.put<{ inherited: boolean; tokens: string[] }>(`/v1/documents/${documentId}/access`, {
      as: admin,
      json: { users: [outsider.user.id] },
    });
    const access = expectStatus(set, 200);
    assert.equal(access.inherited, false);
    assert.deepEqual(access.tokens, [`u:${outsider.user.id}`]);
    assert.deepEqual(await chunkAcl(), [`u:${outsider.user.id}`]);
    assert.deepEqual(await visibleIds(outsider), [documentId]);
    assert.deepEqual(await visibleIds(reader), []);
    const denied = await explain(reader.user.id);
    assert.equal(denied.allowed, false);
    assert.equal(denied.source, 'document');

    const inherit = expectStatus(await stack.http.delete<{ inherited: boolean }>(`/v1/documents/${documentId}/access`, { as: admin }), 200);
    assert.equal(inherit.inherited, true);
    assert.deepEqual(await chunkAcl(), [`g:${group.id}`]);
    assert.deepEqual(await visibleIds(reader), [documentId]);
  });

  it('changing the collection’s default reaches its documents at once', async () => {
    expectStatus(await stack.http.put(`/v1/collections/${collectionId}/access`, { as: admin, json: { everyone: true } }), 200);
    assert.deepEqual(await chunkAcl(), ['everyone']);
    assert.deepEqual(await visibleIds(outsider), [documentId]);
    expectStatus(await stack.http.put(`/v1/collections/${collectionId}/access`, { as: admin, json: { groups: [group.id] } }), 200);
    assert.deepEqual(await visibleIds(outsider), []);
  });

  it('refuses unknown or foreign principals, malformed lists, and non-administrators', async () => {
    const other = await createTenant(stack, 'acl-other');
    const otherOwner = await signIn(stack, other.slug, other.ownerEmail);
    const foreignGroup = await createGroup(stack, otherOwner, 'foreign');
    expectError(
      await stack.http.put(`/v1/collections/${collectionId}/access`, { as: admin, json: { groups: [foreignGroup.id] } }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await stack.http.put(`/v1/documents/${documentId}/access`, { as: admin, json: { users: ['00000000-0000-7000-8000-000000000000'] } }),
      404,
      'NOT_FOUND',
    );
    expectError(await stack.http.put(`/v1/documents/${documentId}/access`, { as: admin, json: { users: ['not-a-uuid'] } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.put(`/v1/documents/${documentId}/access`, { as: admin, json: { everyone: 'yes' } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.put(`/v1/collections/${collectionId}/access`, { as: reader, json: { everyone: true } }), 403, 'FORBIDDEN');
    expectError(await stack.http.get(`/v1/documents/${documentId}/access/explain?userId=${reader.user.id}`, { as: reader }), 403, 'FORBIDDEN');
    // The failed updates changed nothing.
    assert.deepEqual(await chunkAcl(), [`g:${group.id}`]);
    stack.http.assertNoServerErrors();
  });
});
