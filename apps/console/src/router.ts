/** Paths under /console/: inbox[/id], chat[/id], settings. History API, no library needed for four routes. */
import { useSyncExternalStore } from 'react';

export type Route = { view: 'inbox'; id: number | null } | { view: 'chat'; id: number | null } | { view: 'settings' };

export const ROOT = '/console/';

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(ROOT) ? pathname.slice(ROOT.length) : '';
  const [view, id] = rest.split('/');
  const n = id && /^\d+$/.test(id) ? Number(id) : null;
  if (view === 'chat') return { view: 'chat', id: n };
  if (view === 'settings') return { view: 'settings' };
  return { view: 'inbox', id: n };
}

export function hrefOf(r: Route): string {
  if (r.view === 'settings') return `${ROOT}settings`;
  return `${ROOT}${r.view}${r.id ? `/${r.id}` : ''}`;
}

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(r: Route | string): void {
  const href = typeof r === 'string' ? r : hrefOf(r);
  if (href !== location.pathname) history.pushState(null, '', href);
  notify();
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => location.pathname,
  );
  return parseRoute(path);
}

/** A link that navigates in place (and still opens in a new tab on ctrl/cmd-click). */
export function onLinkClick(
  e: { preventDefault(): void; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; button: number },
  href: string,
) {
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
  e.preventDefault();
  navigate(href);
}
