import type { Role } from '@quarry/core';

/** Everything an actor can be allowed to do. API key scopes are drawn from this same list. */
export const Permission = {
  TenantRead: 'tenant:read',
  TenantManage: 'tenant:manage',
  UsersRead: 'users:read',
  UsersManage: 'users:manage',
  GroupsRead: 'groups:read',
  GroupsManage: 'groups:manage',
  ApiKeysOwn: 'api_keys:own',
  ApiKeysAll: 'api_keys:all',
  AuditRead: 'audit:read',
  UsageRead: 'usage:read',
  CollectionsRead: 'collections:read',
  CollectionsManage: 'collections:manage',
  DocumentsRead: 'documents:read',
  DocumentsWrite: 'documents:write',
  Search: 'search',
  Chat: 'chat',
  EvalsRun: 'evals:run',
  ModelsManage: 'models:manage',
} as const;

export type Permission = (typeof Permission)[keyof typeof Permission];
export const allPermissions: readonly Permission[] = Object.values(Permission);

const viewer: Permission[] = [
  Permission.TenantRead,
  Permission.GroupsRead,
  Permission.CollectionsRead,
  Permission.DocumentsRead,
  Permission.Search,
  Permission.Chat,
  Permission.ApiKeysOwn,
];
const member: Permission[] = [...viewer, Permission.DocumentsWrite];
const admin: Permission[] = [
  ...member,
  Permission.UsersRead,
  Permission.UsersManage,
  Permission.GroupsManage,
  Permission.ApiKeysAll,
  Permission.AuditRead,
  Permission.UsageRead,
  Permission.CollectionsManage,
  Permission.EvalsRun,
  Permission.ModelsManage,
];
const owner: Permission[] = [...admin, Permission.TenantManage];

const byRole: Record<Role, ReadonlySet<string>> = {
  viewer: new Set(viewer),
  member: new Set(member),
  admin: new Set(admin),
  owner: new Set(owner),
};

export function rolePermissions(role: Role): ReadonlySet<string> {
  return byRole[role];
}

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** An actor may grant a role at most equal to its own; only owners touch owners. */
export function canAssignRole(actorRole: Role, targetRole: Role): boolean {
  return rank[targetRole] <= rank[actorRole];
}

export function canManageUserWithRole(actorRole: Role, subjectRole: Role): boolean {
  return subjectRole !== 'owner' || actorRole === 'owner';
}
