import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';
import { queryKeys } from '../api/query-keys';
import { useTenantId } from './use-tenant';

export type User = Schemas['UserDto'];
export type Group = Schemas['GroupDto'];
export type ApiKey = Schemas['ApiKeyDto'];
export type AuditEvent = Schemas['AuditEventPageDto']['items'][number];
export type Role = User['role'];
export const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];
export const SCOPES = [
  'tenant:read', 'tenant:manage', 'users:read', 'users:manage', 'groups:read', 'groups:manage', 'api_keys:own',
  'api_keys:all', 'audit:read', 'usage:read', 'collections:read', 'collections:manage', 'documents:read',
  'documents:write', 'search', 'chat', 'evals:run',
] as const satisfies readonly Schemas['CreateApiKeyBody']['scopes'][number][];

function useInvalidate(key: (tenantId: string) => readonly unknown[]) {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: key(tenantId) });
}

// ----- users
export function useUsers(enabled = true) {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.users(tenantId),
    queryFn: ({ signal }) => call(api.GET('/v1/users', { params: { query: { limit: 200 } }, signal }), signal),
    enabled,
  });
}

export function useCreateUser() {
  const invalidate = useInvalidate(queryKeys.users);
  return useMutation({
    mutationFn: (body: Schemas['CreateUserBody']) => call(api.POST('/v1/users', { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateUser() {
  const invalidate = useInvalidate(queryKeys.users);
  return useMutation({
    mutationFn: ({ id, ...body }: Schemas['UpdateUserBody'] & { id: string }) =>
      call(api.PATCH('/v1/users/{id}', { params: { path: { id } }, body })),
    onSuccess: invalidate,
  });
}

// ----- groups
export function useGroups(enabled = true) {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.groups(tenantId),
    queryFn: ({ signal }) => call(api.GET('/v1/groups', { params: { query: { limit: 200 } }, signal }), signal),
    enabled,
  });
}

export function useCreateGroup() {
  const invalidate = useInvalidate(queryKeys.groups);
  return useMutation({
    mutationFn: (body: Schemas['CreateGroupBody']) => call(api.POST('/v1/groups', { body })),
    onSuccess: invalidate,
  });
}

export function useDeleteGroup() {
  const invalidate = useInvalidate(queryKeys.groups);
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/v1/groups/{id}', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
}

export function useGroupMembers(groupId: string) {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.groupMembers(tenantId, groupId),
    queryFn: ({ signal }) =>
      call(api.GET('/v1/groups/{id}/members', { params: { path: { id: groupId }, query: { limit: 200 } }, signal }), signal),
  });
}

export function useGroupMembership(groupId: string) {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, member }: { userId: string; member: boolean }) => {
      const params = { params: { path: { id: groupId, userId } } };
      return member
        ? call(api.PUT('/v1/groups/{id}/members/{userId}', params))
        : call(api.DELETE('/v1/groups/{id}/members/{userId}', params));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.groups(tenantId) }),
  });
}

// ----- API keys
export function useApiKeys() {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.apiKeys(tenantId),
    queryFn: ({ signal }) => call(api.GET('/v1/api-keys', { params: { query: { limit: 200 } }, signal }), signal),
  });
}

export function useCreateApiKey() {
  const invalidate = useInvalidate(queryKeys.apiKeys);
  return useMutation({
    mutationFn: (body: Schemas['CreateApiKeyBody']) => call(api.POST('/v1/api-keys', { body })),
    onSuccess: invalidate,
  });
}

export function useRevokeApiKey() {
  const invalidate = useInvalidate(queryKeys.apiKeys);
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/v1/api-keys/{id}', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
}

// ----- audit log
export interface AuditFilters {
  action?: string;
  outcome?: 'success' | 'failure';
  actorId?: string;
  from?: string;
  to?: string;
}

export function useAuditEvents(filters: AuditFilters, cursor: string | undefined) {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.audit(tenantId, { ...filters, cursor }),
    queryFn: ({ signal }) =>
      call(api.GET('/v1/audit-events', { params: { query: { ...filters, cursor, limit: 50 } }, signal }), signal),
    placeholderData: keepPreviousData,
  });
}
