import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';
import { queryKeys } from '../api/query-keys';
import { useTenantId } from './use-tenant';

export type AccessTarget = 'collection' | 'document';
export type AccessList = Schemas['AccessListBody'];
export interface AccessView {
  everyone: boolean;
  users: string[];
  groups: string[];
  /** Documents only: true while the document follows its collection's grants. */
  inherited?: boolean;
}

function fetchAccess(target: AccessTarget, id: string, signal: AbortSignal): Promise<AccessView> {
  const params = { params: { path: { id } }, signal };
  return target === 'collection'
    ? call(api.GET('/v1/collections/{id}/access', params), signal)
    : call(api.GET('/v1/documents/{id}/access', params), signal);
}

export function useAccess(target: AccessTarget, id: string) {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.access(tenantId, target, id),
    queryFn: ({ signal }) => fetchAccess(target, id, signal),
  });
}

export function useSaveAccess(target: AccessTarget, id: string) {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: AccessList): Promise<AccessView> => {
      const params = { params: { path: { id } }, body };
      return target === 'collection'
        ? call(api.PUT('/v1/collections/{id}/access', params))
        : call(api.PUT('/v1/documents/{id}/access', params));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.tenant(tenantId) }),
  });
}

/** A document goes back to its collection's grants. */
export function useResetDocumentAccess(id: string) {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.DELETE('/v1/documents/{id}/access', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.tenant(tenantId) }),
  });
}
