import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthVerifier, signToken } from './auth.js';

const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const sub = '7F1C2A34-5B6D-4E8F-9A0B-1C2D3E4F5A6B';

describe('createAuthVerifier', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('remembers a verified token only until the token expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-02T10:00:00Z'));
    const auth = createAuthVerifier({ jwtSecret: secret });
    const token = await signToken(secret, { sub, tenant_slug: 'acme', role: 'tenant_user' }, '60s');

    const first = await auth.verify(token);
    expect(first).toEqual({ userId: sub.toLowerCase(), tenantSlug: 'acme', role: 'tenant_user', type: 'access' });
    expect(await auth.verify(token)).toEqual(first);

    vi.setSystemTime(new Date('2026-12-02T10:01:01Z'));
    await expect(auth.verify(token)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'the access token has expired',
    });
  });

  it('never remembers a refused token', async () => {
    const auth = createAuthVerifier({ jwtSecret: secret });
    const token = await signToken(secret, { sub, role: 'tenant_user' });
    // Change the signature's first character: all six of its bits count, unlike the last one's (where a
    // change can fall in the padding bits and decode to the same signature).
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expect(auth.verify(forged)).rejects.toMatchObject({ message: 'the access token is invalid' });
    await expect(auth.verify(forged)).rejects.toMatchObject({ message: 'the access token is invalid' });
    expect((await auth.verify(token)).tenantSlug).toBeNull();
  });
});
