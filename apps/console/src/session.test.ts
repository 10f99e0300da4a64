import { describe, expect, it } from 'vitest';
import { decodeClaims, loadSession, saveSession, sessionFrom, takeTokenFromLocation } from './session';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
const user = '00000000-0000-4000-8000-000000000001';

class MemoryStorage {
  private m = new Map<string, string>();
  getItem = (k: string) => this.m.get(k) ?? null;
  setItem = (k: string, v: string) => void this.m.set(k, v);
  removeItem = (k: string) => void this.m.delete(k);
}

describe('the session', () => {
  it('reads the tenant, user and role from the token', () => {
    const token = jwt({ sub: user, tenant_slug: 'demo', role: 'tenant_admin', exp: 4_000_000_000 });
    expect(decodeClaims(token)).toMatchObject({ sub: user, tenant_slug: 'demo' });
    expect(sessionFrom(`Bearer ${token}`)).toEqual({
      token,
      tenant: 'demo',
      userId: user,
      role: 'tenant_admin',
      expiresAt: 4_000_000_000_000,
    });
  });
  it('refuses what is not a token, an expired one, and a token without a tenant unless one is named', () => {
    expect(sessionFrom('hello')).toEqual({ error: expect.stringContaining('not an access token') });
    expect(sessionFrom(jwt({ sub: user, tenant_slug: 'demo', exp: 1 }))).toEqual({
      error: expect.stringContaining('expired'),
    });
    expect(sessionFrom(jwt({ sub: user, role: 'super_admin' }))).toEqual({ error: expect.stringContaining('tenant') });
    expect(sessionFrom(jwt({ sub: user, role: 'super_admin' }), 'acme')).toMatchObject({ tenant: 'acme' });
  });
  it('takes the token from #token= and removes it from the address', () => {
    const calls: string[] = [];
    const loc = { hash: '#token=abc.def.ghi', pathname: '/console/inbox', search: '?x=1' } as Location;
    const hist = {
      state: null,
      replaceState: (_s: unknown, _t: string, url: string) => calls.push(url),
    } as unknown as History;
    expect(takeTokenFromLocation(loc, hist)).toBe('abc.def.ghi');
    expect(calls).toEqual(['/console/inbox?x=1']);
    expect(takeTokenFromLocation({ ...loc, hash: '' } as Location, hist)).toBeNull();
  });
  it('keeps the session in the storage it is given, and drops an expired one', () => {
    const storage = new MemoryStorage() as unknown as Storage;
    const s = { token: 't', tenant: 'demo', userId: user, role: 'tenant_user', expiresAt: Date.now() + 60_000 };
    saveSession(storage, s);
    expect(loadSession(storage)).toEqual(s);
    saveSession(storage, { ...s, expiresAt: Date.now() - 1 });
    expect(loadSession(storage)).toBeNull();
    saveSession(storage, null);
    expect(loadSession(storage)).toBeNull();
  });
});
