/** What every answer of the API and the gateway carries for browsers and scanners, and who the client is. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';

export interface SecurityHeaderOptions {
  /** Strict-Transport-Security, for a service whose PUBLIC_BASE_URL is https. */
  hsts: boolean;
}

const HSTS = 'max-age=31536000; includeSubDomains';

/** nosniff on everything (nothing we serve is to be sniffed into HTML); HSTS behind https. */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    // On the response's own headers, as observe() does (c.header() after the handler rebuilds the response);
    // HEAD answers are rebuilt by Hono from the GET one, so they go through c.header().
    const set =
      c.req.method === 'HEAD'
        ? (k: string, v: string) => c.header(k, v)
        : (k: string, v: string) => c.res.headers.set(k, v);
    set('x-content-type-options', 'nosniff');
    if (options.hsts) set('strict-transport-security', HSTS);
  };
}

/** The client's address: the socket's peer, or the first X-Forwarded-For hop when a proxy is trusted. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by Node (app.request() in a test)
  }
}
