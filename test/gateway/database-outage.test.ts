// The gateway and the API while PostgreSQL is unreachable (a TCP proxy cut between them): 503 with Retry-After, never
// 2xx, and the redelivery stored once it is back.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { withValueSet } from '@comms/adapter-kit/testing';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { createAccount, startStack } from '../support/stack.js';
import { proxiedTestDatabase } from '../support/tcp-proxy.js';
import { schemaOf } from '../support/wait.js';
import { APP_SECRET, count, db, PHONE_ID, useWhatsAppGateway } from '../support/whatsapp-gateway.js';

useWhatsAppGateway();

describe('database outage', () => {
  it('answers 503 (never 2xx) while PostgreSQL is unreachable, and stores the redelivery after; the API answers 503 too', async () => {
    const { proxy, url } = await proxiedTestDatabase();
    const stack = await startStack({ env: { DATABASE_URL: url } });
    try {
      const tenant = await stack.createTenant('wa-down');
      await createAccount(stack, tenant, {
        provider: 'whatsapp',
        identifier: PHONE_ID,
        credentials: { app_secret: APP_SECRET },
      });
      const signed = signedMetaWebhook(
        whatsappWebhook([whatsappText({ from: '5511911110000', text: 'are you there?' })]),
        APP_SECRET,
      );
      const send = () => fetch(`${stack.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...signed });
      await new Promise((r) => setTimeout(r, 5_500)); // let the tenant cache entry expire
      const agent = await stack.token({ tenant, role: 'tenant_user' });
      await proxy.cut();
      const down = await send();
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBeTruthy();
      // An agent's request meets the same outage: retry later, not "unexpected error".
      const listed = await stack.request('GET', api(tenant, '/conversations'), { token: agent });
      expect(listed.status, listed.text).toBe(503);
      expect(listed.headers.get('content-type')).toContain('application/problem+json');
      expect(listed.headers.get('retry-after')).toBe('5');
      expect(listed.body.detail).toBe('the database is unavailable; retry later');
      await proxy.restore();
      const up = await send();
      expect(up.status).toBe(200);
      const again = await stack.request('GET', api(tenant, '/conversations'), { token: agent });
      expect(again.status).toBe(200);
      expect(again.body.data).toHaveLength(1);
      expect(await count(tenant, 'inbox_messages')).toBe(1);
    } finally {
      await stack.close();
      await proxy.close();
    }
  });

  it('a signed webhook with a malformed value is 503 only while its rejected receipt cannot be stored (issue 21 point 2)', async () => {
    const { proxy, url } = await proxiedTestDatabase();
    const stack = await startStack({ env: { DATABASE_URL: url } });
    try {
      const tenant = await stack.createTenant('wa-bad-down');
      await createAccount(stack, tenant, {
        provider: 'whatsapp',
        identifier: PHONE_ID,
        credentials: { app_secret: APP_SECRET },
      });
      const post = (payload: unknown) =>
        fetch(`${stack.url}/webhooks/${tenant}/whatsapp`, {
          method: 'POST',
          ...signedMetaWebhook(payload, APP_SECRET),
        });
      // A good webhook first: the tenant and its account are cached, so the outage meets the rejected receipt.
      expect((await post(whatsappWebhook([whatsappText({ from: '5511911110001', text: 'hi' })]))).status).toBe(200);
      const bad = withValueSet(
        whatsappWebhook([whatsappText({ from: '5511911110001', text: 'when?' })]),
        'entry.0.changes.0.value.messages.0.timestamp',
        'abc',
      );
      await proxy.cut();
      const down = await post(bad);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBeTruthy();
      await proxy.restore();
      expect((await post(bad)).status).toBe(400);
      const receipts = await db.query(`select error from "${schemaOf(tenant)}".webhook_events where error is not null`);
      expect(receipts.rows).toHaveLength(1);
      expect(receipts.rows[0].error).toContain('timestamp');
      expect(await count(tenant, 'inbox_messages')).toBe(1);
    } finally {
      await stack.close();
      await proxy.close();
    }
  });

  it('connections that go dead without a word are closed after DB_QUERY_TIMEOUT_MS: 503, then served again', async () => {
    // Found by `npm run chaos -- proxy-postgres`: connections a firewall or failover forgets held their pool
    // slots until TCP gave up, and every request after was a 503 for as long.
    const { proxy, url } = await proxiedTestDatabase();
    const stack = await startStack({
      env: { DATABASE_URL: url, DB_POOL_SIZE: '2', DB_QUERY_TIMEOUT_MS: '1000' },
    });
    try {
      const tenant = await stack.createTenant('dead-conns');
      const list = () => stack.request('GET', `/api/v1/tenants/${tenant}/communications/conversations`);
      await Promise.all([list(), list()]); // both pooled connections open
      expect((await list()).status).toBe(200);
      proxy.blackhole();
      const started = Date.now();
      const during = await Promise.all([list(), list()]);
      expect(during.map((r) => r.status)).toEqual([503, 503]);
      expect(during[0]!.headers.get('retry-after')).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5_000);
      // New connections work: the dead ones were closed, not handed out again.
      for (let i = 0; i < 4; i++) expect((await list()).status).toBe(200);
    } finally {
      await stack.close();
      await proxy.close();
    }
  });
});
