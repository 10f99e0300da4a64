// The gateway with WhatsApp Cloud API webhooks, end to end over HTTP against the real PostgreSQL and Redis: the
// handshake, messages into conversations, redeliveries, batches, races and the events published.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { newWamid, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { eventually, schemaOf } from '../support/wait.js';
import { count, db, h, post, setup, useWhatsAppGateway } from '../support/whatsapp-gateway.js';

useWhatsAppGateway();

describe('WhatsApp webhooks', () => {
  it('answers the hub.challenge handshake only for our verify token', async () => {
    const tenant = await setup();
    const ok = await fetch(
      `${h.url}/webhooks/${tenant}/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const bad = await fetch(
      `${h.url}/webhooks/${tenant}/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`,
    );
    expect(bad.status).toBe(403);
  });

  it('turns a signed text message into a conversation and a message', async () => {
    const tenant = await setup();
    const id = newWamid();
    const res = await post(
      tenant,
      whatsappWebhook([whatsappText({ from: '5511999990000', text: 'Olá, quero ir a Lisboa', id })]),
    );
    expect(res.status, res.text).toBe(200);
    const convs = await h.request('GET', api(tenant, '/conversations'));
    expect(convs.body.data).toHaveLength(1);
    expect(convs.body.data[0]).toMatchObject({
      channel: 'whatsapp',
      contact_identifier: '5511999990000',
      contact_name: 'Ana Lima',
      status: 'new',
      message_count: 1,
      unread_count: 1,
      first_message: 'Olá, quero ir a Lisboa',
      last_message: 'Olá, quero ir a Lisboa',
    });
    expect(convs.body.data[0].last_inbound_at).not.toBeNull();
    const msgs = await h.request('GET', api(tenant, `/messages/conversation/${convs.body.data[0].id}`));
    expect(msgs.body.data[0]).toMatchObject({
      direction: 'in',
      type: 'text',
      content: 'Olá, quero ir a Lisboa',
      external_id: id,
    });
    // The 24-hour window is open now: a free-form reply is accepted.
    const reply = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: convs.body.data[0].id, content: 'Claro!' },
    });
    expect(reply.status).toBe(202);
  });

  it('stores the same webhook once, however often it is delivered', async () => {
    const tenant = await setup();
    const payload = whatsappWebhook([whatsappText({ from: '5511988887777', text: 'hello' })]);
    for (let i = 0; i < 3; i++) expect((await post(tenant, payload)).status).toBe(200);
    expect(await count(tenant, 'inbox_messages')).toBe(1);
    expect(await count(tenant, 'webhook_events')).toBe(1);
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
    expect(conv.message_count).toBe(1);
  });

  it('stores a message carrying NUL characters without them instead of refusing it forever', async () => {
    const tenant = await setup();
    const res = await post(
      tenant,
      whatsappWebhook([whatsappText({ from: '5511977776666', text: 'fly\u0000 to Rome', name: 'Bea\u0000' })]),
    );
    expect(res.status, res.text).toBe(200);
    const rows = await db.query(
      `select m.content, c.contact_name from "${schemaOf(tenant)}".inbox_messages m
         join "${schemaOf(tenant)}".inbox_conversations c on c.id = m.conversation_id`,
    );
    expect(rows.rows).toEqual([{ content: 'fly to Rome', contact_name: 'Bea' }]);
  });

  it('stores every message of a batch (several changes and messages)', async () => {
    const tenant = await setup();
    const a = whatsappText({ from: '5511900000001', text: 'first' });
    const b = whatsappText({ from: '5511900000002', text: 'second', name: 'Bruno' });
    const second = { ...b, messages: [...b.messages, { ...b.messages[0]!, id: newWamid(), text: { body: 'third' } }] };
    expect((await post(tenant, whatsappWebhook([a, second]))).status).toBe(200);
    expect(await count(tenant, 'inbox_messages')).toBe(3);
    expect(await count(tenant, 'inbox_conversations')).toBe(2);
  });

  it('makes exactly one conversation for 20 concurrent first messages from one new contact', async () => {
    const tenant = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(tenant, whatsappWebhook([whatsappText({ from: '5511955554444', text: `msg ${i}` })])),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const convs = await db.query(`select id, message_count from "${schemaOf(tenant)}".inbox_conversations`);
    expect(convs.rows).toHaveLength(1);
    expect(convs.rows[0].message_count).toBe(20);
    expect(await count(tenant, 'inbox_messages')).toBe(20);
  });

  it('reopens an archived conversation when the customer writes again', async () => {
    const tenant = await setup();
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511944443333', text: 'one' })]));
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
    await h.request('DELETE', api(tenant, `/conversations/${conv.id}`));
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511944443333', text: 'two' })]));
    const after = (await h.request('GET', api(tenant, `/conversations/${conv.id}`))).body;
    expect(after).toMatchObject({ status: 'open', archived_at: null, message_count: 2, last_message: 'two' });
    expect(await count(tenant, 'inbox_conversations')).toBe(1);
  });

  it('publishes message_received and conversation_created on the bus', async () => {
    const tenant = await setup();
    const events: { type: string; tenant: string; data: Record<string, unknown> }[] = [];
    const off = h.runtime.bus.subscribe((e) => {
      if (e.tenant === tenant) events.push(e);
    });
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511922221111', text: 'hey' })]));
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511922221111', text: 'again' })]));
    // With Redis the bus delivers through a stream read: wait for the four events.
    await eventually(
      async () => events.length,
      (n) => n >= 4,
      5_000,
    );
    off();
    expect(events.map((e) => e.type)).toEqual([
      'conversation_created',
      'message_received',
      'conversation_updated',
      'message_received',
    ]);
    expect(events[1]!.data).toMatchObject({ content: 'hey', direction: 'in' });
  });
});
