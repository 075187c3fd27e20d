import { useQuery } from '@tanstack/react-query';
import { authApi, type Session } from '../api/auth';
import { isApiError, setCsrfToken } from '../api/client';
import { queryKeys } from '../api/query-keys';

/** Current session; `data` is `null` when signed out (a 401 is not an error here). */
export function useSession() {
  return useQuery({
    queryKey: queryKeys.session(),
    queryFn: async ({ signal }): Promise<Session | null> => {
      try {
        const session = await authApi.session(signal);
        setCsrfToken(session.csrfToken);
        return session;
      } catch (error) {
        if (isApiError(error, 401)) {
          setCsrfToken(null);
          return null;
        }
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}
