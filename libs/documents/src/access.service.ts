import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, ErrorCode, type Principal, type TenantScope } from '@quarry/core';
import { Database, type TenantTx } from '@quarry/db';

/** Who may read: everyone in the tenant, and/or named users and groups. */
export interface AccessList {
  everyone: boolean;
  users: string[];
  groups: string[];
}

export interface DocumentAccess extends AccessList {
  /** True when the document has no grants of its own and uses its collection's. */
  inherited: boolean;
  /** The effective readers, as stored on the document and its chunks. */
  tokens: string[];
}

export interface AccessExplanation {
  allowed: boolean;
  source: 'document' | 'collection';
  /** The grants that let the user in (none when denied). */
  matchedBy: string[];
  reason: string;
  userTokens: string[];
}

export const EVERYONE = 'everyone';

/** The tokens a reader carries: everyone in the tenant, themselves, and each group they are in. */
export function readerTokens(userId: string, groupIds: readonly string[]): string[] {
  return [EVERYONE, `u:${userId}`, ...groupIds.map((id) => `g:${id}`)];
}

/**
 * Document permissions. Grants live in access_grants; every change rewrites the effective tokens on the
 * affected documents and their chunks in the same transaction, so retrieval filters by them in SQL and
 * a change takes effect on the next query.
 */
@Injectable()
export class AccessService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  /** The reader tokens of a user of this tenant (group membership resolved now). */
  async tokensFor(scope: TenantScope, userId: string): Promise<string[]> {
    const memberships = await this.db.tenant(scope, (tx) =>
      tx.groupMember.findMany({ where: { tenantId: scope.tenantId, userId }, select: { groupId: true }, orderBy: { groupId: 'asc' } }),
    );
    return readerTokens(userId, memberships.map((row) => row.groupId));
  }

  async collectionAccess(scope: TenantScope, collectionId: string): Promise<AccessList> {
    return this.db.tenant(scope, async (tx) => {
      await this.requireCollection(tx, scope, collectionId);
      return toList(await tx.accessGrant.findMany({ where: { tenantId: scope.tenantId, collectionId } }));
    });
  }

  async documentAccess(scope: TenantScope, documentId: string): Promise<DocumentAccess> {
    return this.db.tenant(scope, async (tx) => {
      const doc = await this.requireDocument(tx, scope, documentId);
      const own = await tx.accessGrant.findMany({ where: { tenantId: scope.tenantId, documentId } });
      const grants = own.length > 0 ? own : await tx.accessGrant.findMany({ where: { tenantId: scope.tenantId, collectionId: doc.collectionId } });
      return { ...toList(grants), inherited: own.length === 0, tokens: doc.acl };
    });
  }

  /** Replaces a collection's default ACL; documents without their own grants follow it at once. */
  async setCollectionAccess(principal: Principal, collectionId: string, access: AccessList): Promise<AccessList> {
    return this.db.tenant(principal, async (tx) => {
      await this.requireCollection(tx, principal, collectionId);
      const documents = await this.replaceCollectionGrants(tx, principal, collectionId, access);
      await this.audit.record(principal, {
        action: 'access.collection_update',
        outcome: 'success',
        target: { type: 'collection', id: collectionId },
        metadata: { everyone: access.everyone, users: access.users, groups: access.groups, documentsUpdated: documents },
      });
      return normalise(access);
    });
  }

  /** Inside the caller's transaction: replaces the grants and refreshes the affected documents' tokens. */
  async replaceCollectionGrants(tx: TenantTx, scope: TenantScope, collectionId: string, access: AccessList): Promise<number> {
    await this.requirePrincipals(tx, scope, access);
    await tx.accessGrant.deleteMany({ where: { tenantId: scope.tenantId, collectionId } });
    await tx.accessGrant.createMany({ data: grantRows(scope, access, { collectionId }) });
    return this.refreshTokens(tx, scope, { collectionId });
  }

  /** Gives a document its own ACL, or (`null`) makes it inherit its collection's again. */
  async setDocumentAccess(principal: Principal, documentId: string, access: AccessList | null): Promise<DocumentAccess> {
    await this.db.tenant(principal, async (tx) => {
      await this.requireDocument(tx, principal, documentId);
      if (access) await this.requirePrincipals(tx, principal, access);
      await tx.accessGrant.deleteMany({ where: { tenantId: principal.tenantId, documentId } });
      if (access) await tx.accessGrant.createMany({ data: grantRows(principal, access, { documentId }) });
      await this.refreshTokens(tx, principal, { documentId });
      await this.audit.record(principal, {
        action: 'access.document_update',
        outcome: 'success',
        target: { type: 'document', id: documentId },
        metadata: access ? { everyone: access.everyone, users: access.users, groups: access.groups } : { inherit: true },
      });
    });
    return this.documentAccess(principal, documentId);
  }

  /** Why a user can or cannot read a document. */
  async explain(scope: TenantScope, documentId: string, userId: string): Promise<AccessExplanation> {
    const user = await this.db.tenant(scope, (tx) => tx.user.findFirst({ where: { tenantId: scope.tenantId, id: userId } }));
    if (!user) throw AppError.notFound('User');
    const access = await this.documentAccess(scope, documentId);
    const userTokens = await this.tokensFor(scope, userId);
    const matchedBy = access.tokens.filter((token) => userTokens.includes(token));
    const source = access.inherited ? 'collection' : 'document';
    const where = access.inherited ? 'its collection’s default access' : 'its own access list';
    let reason: string;
    if (user.status !== 'active') reason = 'The user is disabled and can read nothing';
    else if (matchedBy.length > 0) reason = `Allowed by ${where}: ${matchedBy.map(describeToken).join(', ')}`;
    else if (access.tokens.length === 0) reason = `Denied: ${where} grants nobody`;
    else reason = `Denied: ${where} grants ${access.tokens.map(describeToken).join(', ')}, and the user is none of them`;
    return { allowed: user.status === 'active' && matchedBy.length > 0, source, matchedBy, reason, userTokens };
  }

  /** Recomputes the effective tokens of the affected documents and copies them onto their chunks. */
  private async refreshTokens(tx: TenantTx, scope: TenantScope, target: { collectionId: string } | { documentId: string }): Promise<number> {
    const updated =
      'collectionId' in target
        ? await tx.$queryRaw<{ id: string }[]>`
            UPDATE documents d SET acl = quarry_document_acl(d.tenant_id, d.id)
            WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.collection_id = ${target.collectionId}::uuid
            RETURNING d.id`
        : await tx.$queryRaw<{ id: string }[]>`
            UPDATE documents d SET acl = quarry_document_acl(d.tenant_id, d.id)
            WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.id = ${target.documentId}::uuid
            RETURNING d.id`;
    if (updated.length > 0) {
      await tx.$executeRaw`
        UPDATE chunks c SET acl = d.acl FROM documents d
        WHERE c.tenant_id = ${scope.tenantId}::uuid AND d.tenant_id = c.tenant_id AND d.id = c.document_id
          AND d.id = ANY(${updated.map((row) => row.id)}::uuid[]) AND c.acl IS DISTINCT FROM d.acl`;
    }
    return updated.length;
  }

  private async requireCollection(tx: TenantTx, scope: TenantScope, id: string): Promise<void> {
    const found = await tx.collection.findFirst({ where: { tenantId: scope.tenantId, id }, select: { id: true } });
    if (!found) throw AppError.notFound('Collection');
  }

  private async requireDocument(tx: TenantTx, scope: TenantScope, id: string) {
    const doc = await tx.document.findFirst({ where: { tenantId: scope.tenantId, id } });
    if (!doc) throw AppError.notFound('Document');
    return doc;
  }

  /** Every named user and group must exist in this tenant (another tenant's ids are simply unknown). */
  private async requirePrincipals(tx: TenantTx, scope: TenantScope, access: AccessList): Promise<void> {
    const users = [...new Set(access.users)];
    const groups = [...new Set(access.groups)];
    const [foundUsers, foundGroups] = await Promise.all([
      users.length ? tx.user.count({ where: { tenantId: scope.tenantId, id: { in: users } } }) : 0,
      groups.length ? tx.group.count({ where: { tenantId: scope.tenantId, id: { in: groups } } }) : 0,
    ]);
    if (foundUsers !== users.length || foundGroups !== groups.length) {
      throw new AppError(404, ErrorCode.NotFound, 'A user or group in the access list does not exist');
    }
  }
}

function grantRows(scope: TenantScope, access: AccessList, resource: { collectionId: string } | { documentId: string }) {
  const list = normalise(access);
  return [
    ...(list.everyone ? [{ principalType: 'everyone', principalId: null }] : []),
    ...list.users.map((id) => ({ principalType: 'user', principalId: id })),
    ...list.groups.map((id) => ({ principalType: 'group', principalId: id })),
  ].map((grant) => ({ tenantId: scope.tenantId, ...resource, ...grant }));
}

function normalise(access: AccessList): AccessList {
  return { everyone: access.everyone, users: [...new Set(access.users)].sort(), groups: [...new Set(access.groups)].sort() };
}

function toList(grants: { principalType: string; principalId: string | null }[]): AccessList {
  return normalise({
    everyone: grants.some((grant) => grant.principalType === 'everyone'),
    users: grants.filter((grant) => grant.principalType === 'user').map((grant) => grant.principalId!),
    groups: grants.filter((grant) => grant.principalType === 'group').map((grant) => grant.principalId!),
  });
}

function describeToken(token: string): string {
  if (token === EVERYONE) return 'everyone in the tenant';
  return token.startsWith('u:') ? `user ${token.slice(2)}` : `group ${token.slice(2)}`;
}
