import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { authApi, type Session } from '../api/auth';
import { isApiError, setCsrfToken } from '../api/client';
import { queryKeys } from '../api/query-keys';

/** Forget everything tied to the session; the app then renders the sign-in page. */
export function clearSession(queryClient: QueryClient): void {
  setCsrfToken(null);
  void queryClient.cancelQueries();
  queryClient.removeQueries({ queryKey: queryKeys.tenants() });
  queryClient.setQueryData<Session | null>(queryKeys.session(), null);
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation<void, Error, void>({
    mutationFn: async () => {
      try {
        await authApi.logout();
      } catch (error) {
        // Already signed out on the server (e.g. the session expired): same outcome.
        if (!isApiError(error, 401)) throw error;
      }
    },
    onSuccess: () => clearSession(queryClient),
  });
}
