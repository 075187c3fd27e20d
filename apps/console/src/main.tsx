import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App';
import { isApiError } from './api/client';
import { clearSession } from './hooks/use-sign-out';
import './styles.css';

/** Any call answering UNAUTHENTICATED means the session is gone: show the sign-in page. */
function onApiError(error: unknown): void {
  if (isApiError(error, 401) && error.code === 'UNAUTHENTICATED') clearSession(queryClient);
}

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError: onApiError }),
  mutationCache: new MutationCache({ onError: onApiError }),
  defaultOptions: {
    queries: {
      // Client errors (4xx) will not fix themselves; retry network and server errors once.
      retry: (failureCount, error) =>
        failureCount < 1 && !(isApiError(error) && error.status >= 400 && error.status < 500),
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('Missing #root element');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
