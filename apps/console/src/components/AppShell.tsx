import { useEffect, useRef, type MouseEvent } from 'react';
import type { Session } from '../api/auth';
import { routeHref, useHashRoute, type Route } from '../hooks/use-hash-route';
import { useSignOut } from '../hooks/use-sign-out';
import { OverviewPage } from './OverviewPage';
import { PlaceholderPage } from './PlaceholderPage';

const NAV: ReadonlyArray<{ route: Route; label: string }> = [
  { route: 'overview', label: 'Overview' },
  { route: 'chat', label: 'Chat' },
  { route: 'documents', label: 'Documents' },
  { route: 'search', label: 'Search' },
  { route: 'admin', label: 'Admin' },
  { route: 'evals', label: 'Evals' },
];

function labelOf(route: Route): string {
  return NAV.find((item) => item.route === route)?.label ?? 'Overview';
}

export function AppShell({ session }: { session: Session }) {
  const route = useHashRoute();
  const signOut = useSignOut();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  const label = labelOf(route);

  useEffect(() => {
    document.title = `${label} · ${session.tenant.name} · Quarry`;
  }, [label, session.tenant.name]);

  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  function skipToMain(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault(); // keep the hash for routing
    mainRef.current?.focus();
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to main content
      </a>
      <header className="topbar">
        <span className="brand">Quarry</span>
        <span className="topbar__tenant" title={session.tenant.slug}>
          {session.tenant.name}
        </span>
        <div className="topbar__user">
          <span className="topbar__email" title={session.user.email}>
            {session.user.email}
          </span>
          <button
            type="button"
            className="button button--secondary button--small"
            onClick={() => signOut.mutate()}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
        </div>
      </header>
      {signOut.error && (
        <div className="alert alert--banner" role="alert">
          Could not sign out: {signOut.error.message}
        </div>
      )}
      <div className="shell__body">
        <nav className="sidenav" aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.route}>
                <a href={routeHref(item.route)} aria-current={item.route === route ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1} className="content">
          {route === 'overview' ? (
            <OverviewPage session={session} />
          ) : (
            <PlaceholderPage title={label} />
          )}
        </main>
      </div>
    </div>
  );
}
