import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { queryKeys } from '../api/query-keys';
import { useTenantId } from './use-tenant';

/** The caller's permissions decide which areas the console offers (the API enforces them anyway). */
export function useMe() {
  const tenantId = useTenantId();
  return useQuery({
    queryKey: queryKeys.me(tenantId),
    queryFn: ({ signal }) => call(api.GET('/v1/me', { signal }), signal),
    staleTime: 60_000,
  });
}

export function useCan(permission: string): boolean {
  return useMe().data?.permissions.includes(permission) ?? false;
}
