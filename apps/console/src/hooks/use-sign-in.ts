import { useMutation, useQueryClient } from '@tanstack/react-query';
import { authApi, type Session, type SignInInput } from '../api/auth';
import { setCsrfToken } from '../api/client';
import { queryKeys } from '../api/query-keys';

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation<Session, Error, SignInInput>({
    mutationFn: (input) => authApi.login(input),
    onSuccess: async (session) => {
      setCsrfToken(session.csrfToken);
      // A session fetch still in flight must not overwrite the fresh session.
      await queryClient.cancelQueries({ queryKey: queryKeys.session() });
      queryClient.removeQueries({ queryKey: queryKeys.tenants() });
      queryClient.setQueryData(queryKeys.session(), session);
    },
  });
}
