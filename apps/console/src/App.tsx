import { AppShell } from './components/AppShell';
import { ErrorState, LoadingState } from './components/QueryState';
import { SignInPage } from './components/SignInPage';
import { useSession } from './hooks/use-session';

export function App() {
  const session = useSession();

  if (session.data) return <AppShell session={session.data} />;
  if (session.data === null) return <SignInPage />;

  return (
    <main className="centered">
      {session.isError ? (
        <ErrorState
          title="Could not check your session"
          error={session.error}
          onRetry={() => void session.refetch()}
        />
      ) : (
        <LoadingState label="Checking your session…" />
      )}
    </main>
  );
}
