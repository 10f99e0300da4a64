/**
 * 405 Method Not Allowed (RFC 9110 §15.5.6): a path that exists with other methods is not a 404, and the
 * answer's `Allow` header lists the methods it takes.
 */
import { problemResponse } from '../problem.js';

interface RoutePattern {
  pattern: RegExp;
  method: string;
}

/** A router path (`/conversations/:id`, `/docs/*`) as a regular expression over a request's path. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** The methods `path` is served with, given an app's routes (HEAD wherever GET is). */
export function allowedMethods(routes: readonly { method: string; path: string }[], path: string): string[] {
  const allowed = new Set<string>();
  for (const route of compile(routes)) if (route.pattern.test(path)) allowed.add(route.method);
  if (allowed.has('GET')) allowed.add('HEAD');
  return [...allowed].sort();
}

const compiled = new WeakMap<readonly object[], { size: number; routes: RoutePattern[] }>();

function compile(routes: readonly { method: string; path: string }[]): RoutePattern[] {
  const hit = compiled.get(routes);
  if (hit && hit.size === routes.length) return hit.routes;
  // Middleware is registered as method ALL; only handlers make a path exist.
  const patterns = routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
  compiled.set(routes, { size: routes.length, routes: patterns });
  return patterns;
}

/**
 * The app's not-found answer: 405 with `Allow` when the path exists with other methods, else 404 with
 * `detail404`.
 */
export function notFoundOrNotAllowed(
  app: { routes: readonly { method: string; path: string }[] },
  detail404: (method: string, path: string) => string,
) {
  return (c: { req: { method: string; url: string } }): Response => {
    const path = new URL(c.req.url).pathname;
    const allowed = allowedMethods(app.routes, path);
    if (allowed.length && !allowed.includes(c.req.method))
      return problemResponse(
        405,
        `${c.req.method} is not allowed on this path; it takes ${allowed.join(', ')}`,
        undefined,
        {
          allow: allowed.join(', '),
        },
      );
    return problemResponse(404, detail404(c.req.method, path));
  };
}
