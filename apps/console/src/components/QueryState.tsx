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
      <p>{error.message}</p>
      {requestId && <p className="muted small">Request ID: <code>{requestId}</code></p>}
      {onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
