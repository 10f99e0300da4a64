/** Bearer tokens (DESIGN §5): 401 with WWW-Authenticate for missing, malformed, forged or expired ones. */
import { clientAddress } from '@comms/core/http';
import { AppError, canActOnTenant } from '@comms/core/platform';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../lib/env.js';

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match ? match[1]! : null;
}

/**
 * The bearer token, verified. An address that presented AUTH_FAILURE_LIMIT refused tokens this minute gets 429
 * with Retry-After until the minute is over, whatever token it sends now (a missing token is not counted).
 */
export function authenticate(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new AppError('unauthorized', 'an Authorization: Bearer token is required');
    const runtime = c.get('runtime');
    const address = clientAddress(c, runtime.config.TRUST_PROXY);
    const wait = runtime.authFailures.retryAfter(address);
    if (wait)
      throw new AppError('too_many_requests', `too many refused tokens from this address; retry in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    try {
      c.set('principal', await runtime.auth.verify(token));
    } catch (err) {
      if (err instanceof AppError && err.code === 'unauthorized') await runtime.authFailures.failed(address);
      throw err;
    }
    await next();
  };
}

/**
 * Resolves `{tenant}` after checking the token may act on it: a token of another tenant gets 403
 * before any lookup, so it learns nothing about which tenants exist; an unknown tenant gets 404.
 */
export function tenantScope(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const slug = c.req.param('tenant') ?? '';
    const principal = c.get('principal');
    if (!canActOnTenant(principal, slug))
      throw new AppError('forbidden', `this token may not act on tenant '${slug.slice(0, 50)}'`);
    const runtime = c.get('runtime');
    const tenant = await runtime.tenants.resolve(slug);
    c.set('tenant', tenant);
    const log = runtime.log.child({ request_id: c.get('requestId'), tenant: tenant.slug });
    c.set('ctx', runtime.context(tenant, { actor: principal, log }));
    await next();
  };
}
