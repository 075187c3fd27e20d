import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';
import { queryKeys } from '../api/query-keys';
import { useTenantId } from './use-tenant';

export type Collection = Schemas['CollectionDto'];

export function useCollections() {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.collections(tenantId),
    queryFn: ({ signal }) => call(api.GET('/v1/collections', { params: { query: { limit: 200 } }, signal }), signal),
  });
}

export function useCreateCollection() {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['CreateCollectionBody']) => call(api.POST('/v1/collections', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.collections(tenantId) }),
  });
}

export function useDeleteCollection() {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/v1/collections/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.collections(tenantId) }),
  });
}
