import type { ReactNode } from 'react';
import { isApiError } from '../api/client';

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

interface ErrorStateProps {
  title: string;
  error: Error;
  onRetry?: () => void;
}

export function ErrorState({ title, error, onRetry }: ErrorStateProps) {
  const requestId = isApiError(error) ? error.body.requestId : '';
  return (
    <div className="error-state" role="alert">
      <p className="error-state__title">{title}</p>
      <p>
        {error.message}
        {isApiError(error) && <span className="muted small"> ({error.code})</span>}
      </p>
      {requestId && <p className="muted small">Request ID: <code>{requestId}</code></p>}
      {onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <div className="empty-state">{children}</div>;
}

/** A mutation's failure, inline next to the control that caused it. */
export function MutationError({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <div className="alert" role="alert">
      {error.message}
      {isApiError(error) && <span className="small"> ({error.code})</span>}
    </div>
  );
}

interface QueryViewProps<T> {
  query: { data: T | undefined; error: Error | null; isPending: boolean; refetch: () => unknown };
  what: string;
  children: (data: T) => ReactNode;
}

/** Loading, error (with retry) or the data: the three states every screen shows the same way. */
export function QueryView<T>({ query, what, children }: QueryViewProps<T>) {
  if (query.data !== undefined) return <>{children(query.data)}</>;
  if (query.error) return <ErrorState title={`Could not load ${what}`} error={query.error} onRetry={() => void query.refetch()} />;
  return <LoadingState label={`Loading ${what}…`} />;
}
