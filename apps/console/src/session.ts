/**
 * The signed-in session: the access token lives in sessionStorage (one tab, gone when it closes) and never in
 * a URL after load. The development link `npm start` prints (`/console#token=…`) is read once and the hash removed.
 */
export interface Claims {
  sub: string;
  tenant_slug?: string;
  role?: string;
  type?: string;
  exp?: number;
}

export interface Session {
  token: string;
  tenant: string;
  userId: string;
  role: string;
  /** Expiry in ms since the epoch, when the token has one. */
  expiresAt: number | null;
}

const KEY = 'comms.console.session';

/** The claims of a JWT, without checking its signature (the API does that); null when it is not a JWT. */
export function decodeClaims(token: string): Claims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(json) as Claims;
    return typeof claims === 'object' && claims && typeof claims.sub === 'string' ? claims : null;
  } catch {
    return null;
  }
}

/** A session from a pasted token (and a tenant when the token names none), or the reason it cannot be one. */
export function sessionFrom(token: string, tenant?: string, now = Date.now()): Session | { error: string } {
  const trimmed = token.trim().replace(/^Bearer\s+/i, '');
  const claims = decodeClaims(trimmed);
  if (!claims) return { error: 'This is not an access token (a JWT with three parts).' };
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  if (expiresAt !== null && expiresAt <= now) return { error: 'This token has expired: ask for a new one.' };
  const slug = (claims.tenant_slug ?? tenant ?? '').trim();
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(slug)) return { error: 'Name the tenant (its slug, for example demo).' };
  return { token: trimmed, tenant: slug, userId: claims.sub, role: claims.role ?? 'tenant_user', expiresAt };
}

export function isAdmin(s: Session): boolean {
  return s.role === 'tenant_admin' || s.role === 'super_admin';
}

/** `#token=…` in the address: taken, and the hash removed so the token is not left in history or bookmarks. */
export function takeTokenFromLocation(loc: Location, history: History): string | null {
  const params = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (!token) return null;
  history.replaceState(history.state, '', loc.pathname + loc.search);
  return token;
}

export function loadSession(storage: Storage): Session | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (s.expiresAt !== null && s.expiresAt <= Date.now()) {
      storage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function saveSession(storage: Storage, s: Session | null): void {
  if (s) storage.setItem(KEY, JSON.stringify(s));
  else storage.removeItem(KEY);
}
