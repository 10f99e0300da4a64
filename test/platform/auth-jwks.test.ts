// RS256 tokens checked against the User Service's JWKS (JWKS_URL), served here by a loopback server.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';

let jwks: Server;
let h: Harness;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let privateKey: PrivateKey;
let tenant: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'user-service-1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  h = await startApi({ env: { JWT_SECRET: undefined, JWKS_URL: url } });
});
afterAll(async () => {
  await h.close();
  jwks.close();
});

const rs256 = (claims: Record<string, unknown>, key: PrivateKey = privateKey) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'user-service-1' })
    .setSubject(randomUUID())
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);

describe('JWKS (RS256)', () => {
  it('accepts User Service tokens and refuses HS256 ones and other keys', async () => {
    const service = await rs256({ role: 'super_admin', type: 'service' });
    tenant = `jwks-${Date.now().toString(36)}`;
    const created = await h.request('POST', '/api/v1/tenants', {
      token: service,
      body: { slug: tenant, name: 'JWKS' },
    });
    expect(created.status).toBe(201);
    const user = await rs256({ tenant_slug: tenant, role: 'tenant_user', type: 'access' });
    expect((await h.request('GET', api(tenant, '/conversations'), { token: user })).status).toBe(200);
    // An HS256 token made with a shared secret is not a User Service token here.
    expect((await h.request('GET', api(tenant, '/conversations'), { token: await h.token({ tenant }) })).status).toBe(
      401,
    );
    const other = (await generateKeyPair('RS256')).privateKey;
    expect(
      (
        await h.request('GET', api(tenant, '/conversations'), {
          token: await rs256({ tenant_slug: tenant, role: 'tenant_user' }, other),
        })
      ).status,
    ).toBe(401);
  });
});
