// WhatsApp status updates of our outbound messages through the gateway and the status-update queue, against the
// real PostgreSQL and Redis: a status may arrive before the send stored the provider id, and never moves back.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import {
  newWamid,
  type WhatsAppStatusOptions,
  whatsappStatus,
  whatsappText,
  whatsappWebhook,
} from '@comms/adapter-whatsapp/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { eventually, schemaOf } from '../support/wait.js';
import { db, h, post, setup, useWhatsAppGateway } from '../support/whatsapp-gateway.js';

useWhatsAppGateway();

describe('WhatsApp webhooks', () => {
  it('applies a status that arrives before the send stored the provider id, and never moves back', async () => {
    const tenant = await setup();
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511933332222', text: 'hi' })]));
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
    // A reply stored as pending; the worker cannot send it (no fake provider here), so we play the send.
    const reply = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'hello' } })
    ).body;
    await db.query(`update "${schemaOf(tenant)}".inbox_messages set status = 'pending', error = null where id = $1`, [
      reply.id,
    ]);
    const providerId = newWamid();
    const status = (s: WhatsAppStatusOptions['status'], extra: Partial<WhatsAppStatusOptions> = {}) =>
      whatsappWebhook([whatsappStatus({ id: providerId, status: s, recipient: '5511933332222', ...extra })]);
    expect((await post(tenant, status('delivered'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    await db.query(`update "${schemaOf(tenant)}".inbox_messages set external_id = $1, status = 'sent' where id = $2`, [
      providerId,
      reply.id,
    ]);
    const delivered = await eventually(
      async () =>
        (await db.query(`select status from "${schemaOf(tenant)}".inbox_messages where id = $1`, [reply.id])).rows[0]
          .status,
      (s) => s === 'delivered',
    );
    expect(delivered).toBe('delivered');
    expect((await post(tenant, status('read'))).status).toBe(200);
    await eventually(
      async () =>
        (await db.query(`select status from "${schemaOf(tenant)}".inbox_messages where id = $1`, [reply.id])).rows[0]
          .status,
      (s) => s === 'read',
    );
    // A late "delivered" redelivered after "read", and a "failed": neither moves it back.
    expect((await post(tenant, { ...status('delivered'), _late: true })).status).toBe(200);
    expect(
      (await post(tenant, status('failed', { errors: [{ code: 131026, title: 'Message undeliverable' }] }))).status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(
      (await db.query(`select status from "${schemaOf(tenant)}".inbox_messages where id = $1`, [reply.id])).rows[0]
        .status,
    ).toBe('read');
  });
});
