import { useId, type FormEvent } from 'react';
import { useSignIn } from '../hooks/use-sign-in';

function field(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

export function SignInPage() {
  const signIn = useSignIn();
  const id = useId();
  const errorId = `${id}-error`;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    signIn.mutate({
      tenant: field(data, 'tenant').trim(),
      email: field(data, 'email').trim(),
      password: field(data, 'password'),
    });
  }

  const describedBy = signIn.error ? errorId : undefined;

  return (
    <main className="centered">
      <div className="card sign-in">
        <p className="brand">Quarry</p>
        <h1>Sign in</h1>
        <form onSubmit={onSubmit} aria-busy={signIn.isPending}>
          <div className="field">
            <label htmlFor={`${id}-tenant`}>Workspace</label>
            <input
              id={`${id}-tenant`}
              name="tenant"
              required
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
              aria-describedby={[`${id}-tenant-hint`, describedBy].filter(Boolean).join(' ')}
            />
            <p id={`${id}-tenant-hint`} className="hint">
              Your workspace’s short name, e.g. <code>acme</code>.
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              name="email"
              type="email"
              autoComplete="username"
              required
              aria-describedby={describedBy}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              aria-describedby={describedBy}
            />
          </div>
          {signIn.error && (
            <div id={errorId} className="alert" role="alert">
              {signIn.error.message}
            </div>
          )}
          <button type="submit" className="button button--primary button--block" disabled={signIn.isPending}>
            Sign in
          </button>
          {signIn.isPending && (
            <p className="muted small" role="status">
              Signing in…
            </p>
          )}
        </form>
      </div>
    </main>
  );
}
