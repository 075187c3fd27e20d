import { useQueryClient } from '@tanstack/react-query';
import type { Session } from '../api/auth';
import { queryKeys } from '../api/query-keys';

/** The signed-in tenant's id; only called inside the signed-in shell, where the session is loaded. */
export function useTenantId(): string {
  const session = useQueryClient().getQueryData<Session | null>(queryKeys.session());
  if (!session) throw new Error('useTenantId needs a signed-in session');
  return session.tenant.id;
}
