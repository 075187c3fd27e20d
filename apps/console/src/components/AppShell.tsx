import { useEffect, useRef, type MouseEvent } from 'react';
import type { Session } from '../api/auth';
import { routeHref, useHashRoute, type Route } from '../hooks/use-hash-route';
import { useSignOut } from '../hooks/use-sign-out';
import { ErrorState, LoadingState } from './QueryState';
import { useMe } from '../hooks/use-me';
import { AdminPage } from './admin/AdminPage';
import { DocumentsPage } from './documents/DocumentsPage';
import { OverviewPage } from './OverviewPage';
import { SearchPage } from './search/SearchPage';

/** Each area and the permission that opens it (the API checks again on every call). */
const NAV: ReadonlyArray<{ route: Route; label: string; permission?: string }> = [
  { route: 'overview', label: 'Overview' },
  { route: 'documents', label: 'Documents', permission: 'collections:manage' },
  { route: 'search', label: 'Search', permission: 'search' },
  { route: 'admin', label: 'Admin', permission: 'api_keys:own' },
];

function Page({ route, session }: { route: Route; session: Session }) {
  switch (route) {
    case 'documents':
      return <DocumentsPage />;
    case 'search':
      return <SearchPage />;
    case 'admin':
      return <AdminPage />;
    default:
      return <OverviewPage session={session} />;
  }
}

function labelOf(route: Route): string {
  return NAV.find((item) => item.route === route)?.label ?? 'Overview';
}

export function AppShell({ session }: { session: Session }) {
  const route = useHashRoute();
  const signOut = useSignOut();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  const me = useMe();
  const permissions = me.data?.permissions;
  const nav = NAV.filter((item) => !item.permission || permissions?.includes(item.permission));
  const allowed = nav.some((item) => item.route === route);
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
            {nav.map((item) => (
              <li key={item.route}>
                <a href={routeHref(item.route)} aria-current={item.route === route ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1} className="content">
          {me.error ? (
            <ErrorState title="Could not load your permissions" error={me.error} onRetry={() => void me.refetch()} />
          ) : permissions === undefined ? (
            <LoadingState label="Loading your permissions…" />
          ) : allowed ? (
            <Page route={route} session={session} />
          ) : (
            <>
              <h1 tabIndex={-1}>{label}</h1>
              <p className="empty-state">Your role does not include this area. Ask an administrator if you need it.</p>
            </>
          )}
        </main>
      </div>
    </div>
  );
}
