// Security details a scanner or a script would try (issue 17): headers on every answer, and refused tokens per
// client address limited, on REST and on the WebSocket upgrade alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startApi, WsRefused } from '../support/harness.js';
import { signToken } from '@comms/core/platform';

let h: Harness;
let https: Harness;
let tenant: string;
beforeAll(async () => {
  [h, https] = await Promise.all([
    startApi({ env: { AUTH_FAILURE_LIMIT: '5' } }),
    startApi({ env: { PUBLIC_BASE_URL: 'https://comms.example.com' } }),
  ]);
  tenant = await h.createTenant('sec');
});
afterAll(async () => {
  await Promise.all([h.close(), https.close()]);
});

const conversations = (slug: string) => `/api/v1/tenants/${slug}/communications/conversations`;

describe('security headers', () => {
  it('nosniff on every answer, no X-Powered-By, and HSTS only behind an https PUBLIC_BASE_URL', async () => {
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/openapi.json'],
      ['GET', conversations(tenant)],
      ['GET', '/no/such/route'],
      ['HEAD', '/health'],
    ] as const) {
      const res = await h.request(method, path, { token: null });
      expect(res.headers.get('x-content-type-options'), `${method} ${path}`).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
    const secure = await https.request('GET', '/health', { token: null });
    expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(secure.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('refused tokens per address', () => {
  it('answers 429 with Retry-After once an address has presented AUTH_FAILURE_LIMIT refused tokens, valid ones too', async () => {
    const good = await h.token({ tenant, role: 'tenant_admin' });
    const forged = await signToken('another-secret-0123456789-abcdefgh', {
      sub: crypto.randomUUID(),
      tenant_slug: tenant,
      role: 'tenant_admin',
    });
    // A missing token is not a guess: it does not count.
    for (let i = 0; i < 8; i++)
      expect((await h.request('GET', conversations(tenant), { token: null })).status).toBe(401);
    expect((await h.request('GET', conversations(tenant), { token: good })).status).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await h.request('GET', conversations(tenant), { token: forged })).status).toBe(401);

    const limited = await h.request('GET', conversations(tenant), { token: forged });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(limited.body.detail).toMatch(/too many refused tokens/);
    const wait = Number(limited.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    // For the rest of the window, a guessed token that happens to be right is refused too.
    expect((await h.request('GET', conversations(tenant), { token: good })).status).toBe(429);
    const upgrade = await h.ws(tenant, good).then(
      () => null,
      (err: unknown) => err,
    );
    expect(upgrade).toBeInstanceOf(WsRefused);
    expect((upgrade as WsRefused).status).toBe(429);
  });
});
