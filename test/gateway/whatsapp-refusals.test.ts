// What the gateway refuses of WhatsApp webhooks, storing nothing: bad signatures (401), unknown tenants or accounts
// (404), malformed bodies (400), oversized ones (413, also chunked), against the real PostgreSQL and Redis.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { createGatewayApp } from '@comms/gateway';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '../support/wait.js';
import { APP_SECRET, count, db, h, post, setup, useWhatsAppGateway } from '../support/whatsapp-gateway.js';

useWhatsAppGateway();

describe('WhatsApp webhooks', () => {
  it('stores nothing for a wrong, missing or foreign signature', async () => {
    const tenant = await setup();
    const payload = whatsappWebhook([whatsappText({ from: '5511977776666', text: 'hello' })]);
    expect((await post(tenant, payload, 'not-the-secret')).status).toBe(401);
    expect((await post(tenant, payload, APP_SECRET, null)).status).toBe(401);
    expect((await post(tenant, payload, APP_SECRET, 'sha256=00')).status).toBe(401);
    expect(await count(tenant, 'webhook_events')).toBe(0);
    expect(await count(tenant, 'inbox_messages')).toBe(0);
  });

  it('answers 404 for an unknown tenant or account, 400 for a malformed body, 413 for an oversized one', async () => {
    const tenant = await setup();
    expect((await post('no-such-tenant', whatsappWebhook([whatsappText({ from: '1', text: 'x' })]))).status).toBe(404);
    expect(
      (await post(tenant, whatsappWebhook([whatsappText({ from: '1', text: 'x' })], { phoneNumberId: '999999999' })))
        .status,
    ).toBe(404);
    expect((await post(tenant, '{"object": "whatsapp_business_account", "entry": [')).status).toBe(400);
    const big = JSON.stringify(whatsappWebhook([whatsappText({ from: '1', text: 'x'.repeat(11 * 1024 * 1024) })]));
    expect((await post(tenant, big)).status).toBe(413);
    expect(await count(tenant, 'inbox_messages')).toBe(0);
  });

  it('refuses a chunked body over the limit as it arrives, whether served by Node or called through fetch', async () => {
    const tenant = await setup();
    const limit = h.runtime.config.WEBHOOK_BODY_LIMIT;
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    // No content-length: the size is only known while reading.
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let sent = 0; sent <= limit; sent += chunk.length) controller.enqueue(chunk);
          controller.close();
        },
      });
    const init = () => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
      body: chunked(),
      duplex: 'half',
    });
    expect((await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, init() as RequestInit)).status).toBe(413);
    const gateway = createGatewayApp(h.runtime);
    const viaFetch = await gateway.request(`/webhooks/${tenant}/whatsapp`, init() as RequestInit);
    expect(viaFetch.status).toBe(413);
    expect(viaFetch.headers.get('content-type')).toBe('application/problem+json');

    // The same app called without Node's request (app.request, a router passing no env) stores as usual.
    const signed = signedMetaWebhook(
      whatsappWebhook([whatsappText({ from: '5511900000077', text: 'through fetch' })]),
      APP_SECRET,
    );
    const stored = await gateway.request(`/webhooks/${tenant}/whatsapp`, { method: 'POST', ...signed });
    expect(stored.status).toBe(200);
    const rows = await db.query(`select content from "${schemaOf(tenant)}".inbox_messages`);
    expect(rows.rows).toEqual([{ content: 'through fetch' }]);
  });
});
