/**
 * The one place query keys are built.
 *
 * The session is global (it is what tells us the tenant). Everything else is data of one tenant and
 * lives under `tenant(tenantId)`, so signing out drops all of it with
 * `removeQueries({ queryKey: queryKeys.tenants() })`.
 */
export const queryKeys = {
  session: () => ['session'] as const,
  tenants: () => ['tenant'] as const,
  tenant: (tenantId: string) => ['tenant', tenantId] as const,
  me: (tenantId: string) => ['tenant', tenantId, 'me'] as const,
  collections: (tenantId: string) => ['tenant', tenantId, 'collections'] as const,
  documents: (tenantId: string, collectionId?: string) =>
    collectionId ? (['tenant', tenantId, 'documents', collectionId] as const) : (['tenant', tenantId, 'documents'] as const),
  access: (tenantId: string, target: 'collection' | 'document', id: string) =>
    ['tenant', tenantId, 'access', target, id] as const,
  users: (tenantId: string) => ['tenant', tenantId, 'users'] as const,
  groups: (tenantId: string) => ['tenant', tenantId, 'groups'] as const,
  groupMembers: (tenantId: string, groupId: string) => ['tenant', tenantId, 'groups', groupId, 'members'] as const,
  apiKeys: (tenantId: string) => ['tenant', tenantId, 'api-keys'] as const,
  audit: (tenantId: string, filters: object) => ['tenant', tenantId, 'audit', filters] as const,
};
