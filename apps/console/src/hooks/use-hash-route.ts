import { useSyncExternalStore } from 'react';

// Chat, usage and evals join when their APIs land.
export const ROUTES = ['overview', 'documents', 'search', 'admin'] as const;
export type Route = (typeof ROUTES)[number];

function isRoute(value: string): value is Route {
  return (ROUTES as readonly string[]).includes(value);
}

function currentRoute(): Route {
  const name = window.location.hash.replace(/^#\/?/, '');
  return isRoute(name) ? name : 'overview';
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function routeHref(route: Route): string {
  return route === 'overview' ? '#/' : `#/${route}`;
}

/** Hash routing: needs no server-side fallback wherever the console is served. */
export function useHashRoute(): Route {
  return useSyncExternalStore(subscribe, currentRoute, () => 'overview');
}
