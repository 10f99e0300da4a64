// The gateway with WhatsApp Cloud API webhooks, end to end over HTTP against the real PostgreSQL and Redis.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import {
  newWamid,
  signedMetaWebhook,
  type WhatsAppStatusOptions,
  whatsappStatus,
  whatsappText,
  whatsappWebhook,
} from '@comms/adapter-whatsapp/testing';
import pg from 'pg';
import { createGatewayApp } from '@comms/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './support/env.js';
import { api } from './support/harness.js';
import { createAccount, type Stack, startStack } from './support/stack.js';
import { eventually, schemaOf } from './support/wait.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const APP_SECRET = 'wa-app-secret-for-tests';
const PHONE_ID = '106540352242922';

let h: Stack;
let db: pg.Client;
beforeAll(async () => {
  h = await startStack({ redis: true, worker: true });
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await h.close();
});

async function post(tenant: string, payload: unknown, secret = APP_SECRET, signature?: string | null) {
  const { body, headers } = signedMetaWebhook(payload, secret);
  if (signature !== undefined) delete headers['x-hub-signature-256'];
  if (signature) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

async function setup() {
  const tenant = await h.createTenant('wa');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-test', verify_token: 'verify-me' },
  });
  return tenant;
}

const count = async (tenant: string, table: string) =>
  (await db.query(`select count(*)::int as n from "${schemaOf(tenant)}".${table}`)).rows[0].n as number;

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

describe('spam rules', () => {
  it('flags blocked identifiers, keywords, link-only first messages and floods; agents can unmark', async () => {
    const tenant = await setup();
    const admin = await h.token({ tenant, role: 'tenant_admin' });
    const rules = await h.request('PUT', api(tenant, '/settings/spam'), {
      token: admin,
      body: { blocked_identifiers: ['5511000000001'], keywords: ['crypto giveaway'], max_messages_per_minute: 5 },
    });
    expect(rules.status).toBe(200);
    expect(rules.body).toMatchObject({ block_link_only_first_message: true, max_messages_per_minute: 5 });

    await post(tenant, whatsappWebhook([whatsappText({ from: '5511000000001', text: 'hello' })]));
    await post(
      tenant,
      whatsappWebhook([whatsappText({ from: '5511000000002', text: 'Join our Crypto Giveaway today' })]),
    );
    await post(
      tenant,
      whatsappWebhook([whatsappText({ from: '5511000000003', text: 'https://bit.ly/x  www.example.com' })]),
    );
    for (let i = 0; i < 7; i++)
      await post(tenant, whatsappWebhook([whatsappText({ from: '5511000000004', text: `flood ${i}` })]));
    await post(
      tenant,
      whatsappWebhook([
        whatsappText({ from: '5511000000005', text: 'Hi, is https://example.com/hotel still available?' }),
      ]),
    );

    const spam = (await h.request('GET', api(tenant, '/conversations?is_spam=true&limit=50'))).body.data;
    const reasons = Object.fromEntries(
      spam.map((c: { contact_identifier: string; spam_reason: string }) => [c.contact_identifier, c.spam_reason]),
    );
    expect(reasons).toEqual({
      '5511000000001': 'blocked identifier',
      '5511000000002': 'keyword: crypto giveaway',
      '5511000000003': 'link-only first message from an unknown contact',
      '5511000000004': 'more than 5 messages a minute',
    });
    const visible = (await h.request('GET', api(tenant, '/conversations'))).body.data;
    expect(visible.map((c: { contact_identifier: string }) => c.contact_identifier)).toEqual(['5511000000005']);

    const flooded = spam.find((c: { contact_identifier: string }) => c.contact_identifier === '5511000000004');
    const unmarked = await h.request('PUT', api(tenant, `/conversations/${flooded.id}`), { body: { is_spam: false } });
    expect(unmarked.body).toMatchObject({ is_spam: false, spam_reason: null });
    await post(tenant, whatsappWebhook([whatsappText({ from: '5511000000004', text: 'one more' })]));
    expect((await h.request('GET', api(tenant, `/conversations/${flooded.id}`))).body.is_spam).toBe(false);
  });
});

describe('database outage', () => {
  it('answers 503 (never 2xx) while PostgreSQL is unreachable, and stores the redelivery after; the API answers 503 too', async () => {
    const target = new URL(testDatabaseUrl());
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(testDatabaseUrl());
    url.host = `127.0.0.1:${proxy.port}`;
    const stack = await startStack({ env: { DATABASE_URL: url.toString() } });
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
});
