/** Access tokens from the platform's User Service (DESIGN §5): HS256 with JWT_SECRET, or RS256 through JWKS_URL. */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { createSecretKey } from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors.js';

export const Role = z.enum(['super_admin', 'tenant_admin', 'tenant_user']);
export type Role = z.infer<typeof Role>;

const Claims = z.object({
  sub: z.uuid(),
  tenant_slug: z.string().nullish(),
  role: Role,
  type: z.enum(['access', 'service']).default('access'),
});

/** Who is calling. */
export interface Principal {
  userId: string;
  tenantSlug: string | null;
  role: Role;
  type: 'access' | 'service';
}

const VERIFIED_MAX = 10_000;
const VERIFIED_TTL_MS = 5 * 60_000;

export interface AuthVerifier {
  verify(token: string): Promise<Principal>;
}

export function createAuthVerifier(options: {
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}): AuthVerifier {
  const verifyOptions = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  let verifyJwt: (token: string) => Promise<JWTPayload>;
  if (options.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
    verifyJwt = async (token) => (await jwtVerify(token, jwks, { ...verifyOptions, algorithms: ['RS256'] })).payload;
  } else if (options.jwtSecret) {
    // A KeyObject made once: jose would otherwise import raw key bytes on every verification.
    const key = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
    verifyJwt = async (token) => (await jwtVerify(token, key, { ...verifyOptions, algorithms: ['HS256'] })).payload;
  } else {
    throw new Error('auth needs JWT_SECRET or JWKS_URL');
  }
  // A client sends the same token with every request until it expires: a signature verified once (HMAC or
  // RSA through WebCrypto, a good part of a small request's CPU) is remembered for the exact token string,
  // until the token's own expiry and at most VERIFIED_TTL_MS, so a rotated signing key takes effect soon.
  const verified = new Map<string, { principal: Principal; until: number }>();
  return {
    async verify(token) {
      const now = Date.now();
      const known = verified.get(token);
      if (known && known.until > now) return known.principal;
      if (known) verified.delete(token);
      let payload: JWTPayload;
      try {
        payload = await verifyJwt(token);
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new AppError('unauthorized', 'the access token has expired');
        throw new AppError('unauthorized', 'the access token is invalid');
      }
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw new AppError('unauthorized', 'the access token lacks the sub, role or tenant claims');
      const { sub, tenant_slug, role, type } = claims.data;
      const principal: Principal = { userId: sub.toLowerCase(), tenantSlug: tenant_slug ?? null, role, type };
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
      verified.set(token, {
        principal,
        until: Math.min(payload.exp ? payload.exp * 1000 : Number.POSITIVE_INFINITY, now + VERIFIED_TTL_MS),
      });
      return principal;
    },
  };
}

/** Service tokens and super admins act on any tenant; everyone else only on their own. */
export function canActOnTenant(principal: Principal, slug: string): boolean {
  return principal.type === 'service' || principal.role === 'super_admin' || principal.tenantSlug === slug;
}

/** Platform-level operations (tenant provisioning). */
export function isPlatformAdmin(principal: Principal): boolean {
  return principal.type === 'service' || principal.role === 'super_admin';
}

/** Tenant-level administration (channel accounts, queue dashboard). */
export function isTenantAdmin(principal: Principal): boolean {
  return isPlatformAdmin(principal) || principal.role === 'tenant_admin';
}

/** Signs an HS256 token, for development (`npm run token`) and tests. */
export async function signToken(
  secret: string,
  claims: { sub: string; tenant_slug?: string | null; role: Role; type?: 'access' | 'service' },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ tenant_slug: claims.tenant_slug ?? null, role: claims.role, type: claims.type ?? 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
