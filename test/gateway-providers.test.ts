// Messenger/Instagram, Twilio and SendGrid through the gateway and back out through the worker, against
// the real PostgreSQL and Redis, with fake providers on loopback. Inbound shapes follow the fixtures'
// documentation pages (see adapters/*/src/fixtures/README.md).
import {
  messengerEcho,
  messengerRead,
  messengerText,
  messengerWebhook,
  signedMetaWebhook,
} from '@comms/adapter-messenger/testing';
import {
  sendgridEvent,
  sendgridEventKeys,
  sendgridInboundForm,
  signedSendGridEvents,
} from '@comms/adapter-sendgrid/testing';
import { signedTwilioWebhook, twilioInboundParams, twilioStatusParams } from '@comms/adapter-twilio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './support/env.js';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.js';
import { api } from './support/harness.js';
import { createAccount, type Stack, startStack } from './support/stack.js';
import { eventually, messageRow as messageRowOf, schemaOf } from './support/wait.js';

let h: Stack;
let fake: FakeProvider;
let db: pg.Client;
const PUBLIC_BASE = 'https://comms.example.com';

beforeAll(async () => {
  fake = await startFakeProvider((req) => {
    if (req.path === '/me/messages')
      return { status: 200, body: { recipient_id: req.json.recipient.id, message_id: `m_out_${Date.now()}` } };
    if (req.path.includes('/Messages.json'))
      return { status: 201, body: { sid: `SM${Date.now()}0000000000000000000`, status: 'queued' } };
    if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `SG${Date.now()}` } };
    return { status: 404, body: {} };
  });
  h = await startStack({
    redis: true,
    worker: true,
    env: {
      PUBLIC_BASE_URL: PUBLIC_BASE,
      MESSENGER_API_URL: fake.url,
      TWILIO_API_URL: fake.url,
      SENDGRID_API_URL: fake.url,
    },
  });
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await h.close();
  await fake.close();
});

const messageRow = (tenant: string, id: number) => messageRowOf(db, tenant, id);

describe('Messenger and Instagram', () => {
  const PAGE = '1234567890123';
  const IG = '17841400000000001';
  const SECRET = 'meta-app-secret';
  const post = (tenant: string, payload: unknown) =>
    fetch(`${h.url}/webhooks/${tenant}/messenger`, { method: 'POST', ...signedMetaWebhook(payload, SECRET) });
  const message = (object: 'page' | 'instagram', account: string, from: string, text: string) =>
    messengerWebhook({ object, account, messaging: [messengerText({ account, from, text })] });

  it('stores Messenger and Instagram messages, replies through the Send API, and applies read watermarks', async () => {
    const tenant = await h.createTenant('fb');
    await createAccount(h, tenant, {
      provider: 'messenger',
      identifier: PAGE,
      credentials: { app_secret: SECRET, page_access_token: 'PAGE-TOKEN', verify_token: 'vt' },
    });
    await createAccount(h, tenant, {
      provider: 'instagram',
      identifier: IG,
      credentials: { app_secret: SECRET, page_access_token: 'IG-TOKEN' },
    });
    expect((await post(tenant, message('page', PAGE, '6543210987654321', 'Breakfast included?'))).status).toBe(200);
    expect((await post(tenant, message('instagram', IG, '17841400000000099', 'Rooms in July?'))).status).toBe(200);
    const convs = (await h.request('GET', api(tenant, '/conversations'))).body.data;
    expect(convs.map((c: { channel: string }) => c.channel).sort()).toEqual(['instagram', 'messenger']);
    // An echo of our own message stores nothing.
    const echo = messengerWebhook({
      account: PAGE,
      messaging: [messengerEcho({ account: PAGE, to: '6543210987654321', text: 'x' })],
    });
    expect((await post(tenant, echo)).status).toBe(200);

    const fbConv = convs.find((c: { channel: string }) => c.channel === 'messenger');
    const reply = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: fbConv.id, content: 'Yes it is' } })
    ).body;
    const sent = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'sent',
    );
    expect(sent.external_id).toMatch(/^m_out_/);
    const call = fake.requests.find((r) => r.path === '/me/messages' && r.json.message.text === 'Yes it is')!;
    expect(call.headers.authorization).toBe('Bearer PAGE-TOKEN');
    expect(call.json).toMatchObject({ recipient: { id: '6543210987654321' }, messaging_type: 'RESPONSE' });

    const read = messengerWebhook({
      account: PAGE,
      messaging: [messengerRead({ account: PAGE, from: '6543210987654321', watermark: Date.now() + 1000 })],
    });
    expect((await post(tenant, read)).status).toBe(200);
    expect(
      (
        await eventually(
          () => messageRow(tenant, reply.id),
          (r) => r.status === 'read',
        )
      ).status,
    ).toBe('read');
    expect((await db.query(`select count(*)::int as n from "${schemaOf(tenant)}".inbox_messages`)).rows[0].n).toBe(3);
  });
});

describe('Twilio', () => {
  const NUMBER = '+14155550100';
  const WA_NUMBER = '+14155550199';
  const SID = 'AC00000000000000000000000000000001';
  const TOKEN = 'twilio-token';
  const post = (tenant: string, path: string, params: Record<string, string>, token = TOKEN) =>
    fetch(`${h.url}/webhooks/${tenant}/${path}`, {
      method: 'POST',
      // Twilio signs the URL it calls: the public one.
      ...signedTwilioWebhook(params, { url: `${PUBLIC_BASE}/webhooks/${tenant}/${path}`, authToken: token }),
    });
  const inbound = (from: string, to: string, body: string, profileName?: string) =>
    twilioInboundParams({ from, to, body, profileName, accountSid: SID });

  it('SMS and WhatsApp in, TwiML out, replies through the SDK, undelivered status becomes failed', async () => {
    const tenant = await h.createTenant('tw');
    await createAccount(h, tenant, {
      provider: 'sms',
      identifier: NUMBER,
      credentials: { account_sid: SID, auth_token: TOKEN },
    });
    await createAccount(h, tenant, {
      provider: 'twilio_whatsapp',
      identifier: WA_NUMBER,
      credentials: { account_sid: SID, auth_token: TOKEN },
    });
    const sms = await post(tenant, 'twilio', inbound('+447700900123', NUMBER, 'Hi by SMS'));
    expect(sms.status).toBe(200);
    expect(sms.headers.get('content-type')).toContain('text/xml');
    expect(await sms.text()).toContain('<Response></Response>');
    expect(
      (await post(tenant, 'twilio', inbound('whatsapp:+5511999990000', `whatsapp:${WA_NUMBER}`, 'Oi', 'Maria'))).status,
    ).toBe(200);
    expect((await post(tenant, 'twilio', inbound('+447700900999', NUMBER, 'forged'), 'wrong-token')).status).toBe(401);

    const convs = (await h.request('GET', api(tenant, '/conversations'))).body.data;
    const smsConv = convs.find((c: { channel: string }) => c.channel === 'sms');
    const waConv = convs.find((c: { channel: string }) => c.channel === 'twilio_whatsapp');
    expect(smsConv).toMatchObject({ contact_identifier: '+447700900123', last_message: 'Hi by SMS' });
    expect(waConv).toMatchObject({ contact_identifier: '+5511999990000', contact_name: 'Maria' });
    expect(convs).toHaveLength(2);

    const reply = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: waConv.id, content: 'Olá Maria' } })
    ).body;
    const sent = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'sent',
    );
    const call = fake.requests.find((r) => r.form?.Body === 'Olá Maria')!;
    expect(call.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(call.form).toMatchObject({
      From: `whatsapp:${WA_NUMBER}`,
      To: 'whatsapp:+5511999990000',
      StatusCallback: `${PUBLIC_BASE}/webhooks/${tenant}/twilio/status`,
    });

    const status = await post(
      tenant,
      'twilio/status',
      twilioStatusParams({
        sid: sent.external_id,
        status: 'undelivered',
        errorCode: '63016',
        accountSid: SID,
        from: `whatsapp:${WA_NUMBER}`,
        to: 'whatsapp:+5511999990000',
      }),
    );
    expect(status.status).toBe(200);
    const failed = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'failed',
    );
    expect(failed.error).toMatchObject({ code: '63016' });
  });
});

describe('SendGrid', () => {
  const INBOUND = 'support@inbound.acme.example';
  const { privateKey, publicKey: PUBLIC_KEY } = sendgridEventKeys();
  const email = (tenant: string, form: FormData, token = 'inbound-secret') =>
    fetch(`${h.url}/webhooks/${tenant}/sendgrid/inbound?token=${token}`, { method: 'POST', body: form });
  const mail = (messageId: string, text: string, answers?: string) =>
    sendgridInboundForm({
      to: INBOUND,
      from: 'ana@example.com',
      name: 'Ana Lima',
      subject: 'Trip enquiry',
      text,
      messageId,
      ...(answers ? { inReplyTo: answers, references: [answers] } : {}),
    });

  it('emails in, replies threaded out, replies joining their thread, events signed with ECDSA', async () => {
    const tenant = await h.createTenant('sg');
    await createAccount(h, tenant, {
      provider: 'email',
      identifier: INBOUND,
      credentials: {
        api_key: 'SG.key',
        from_email: 'bookings@acme.example',
        inbound_token: 'inbound-secret',
        event_public_key: PUBLIC_KEY,
      },
    });
    expect((await email(tenant, mail('first@mail.example.com', 'Rooms in Lisbon?'), 'wrong')).status).toBe(401);
    expect((await email(tenant, mail('first@mail.example.com', 'Rooms in Lisbon?'))).status).toBe(200);
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
    expect(conv).toMatchObject({
      channel: 'email',
      contact_identifier: 'ana@example.com',
      contact_name: 'Ana Lima',
      last_message: 'Rooms in Lisbon?',
    });

    const reply = (
      await h.request('POST', api(tenant, '/messages'), {
        body: { conversation_id: conv.id, content: 'Yes, we have rooms.' },
      })
    ).body;
    const sent = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'sent',
    );
    const call = fake.requests.find(
      (r) => r.path === '/v3/mail/send' && r.json.content[0].value === 'Yes, we have rooms.',
    )!;
    expect(call.json).toMatchObject({
      from: { email: 'bookings@acme.example' },
      subject: 'Re: Trip enquiry',
      headers: { 'In-Reply-To': '<first@mail.example.com>', References: '<first@mail.example.com>' },
      custom_args: { tenant, message_id: String(reply.id) },
    });

    // The agent archives; the customer's reply (In-Reply-To our thread) reopens and joins it.
    await h.request('DELETE', api(tenant, `/conversations/${conv.id}`));
    await email(tenant, mail('second@mail.example.com', 'Great, 2 adults.', 'first@mail.example.com'));
    const after = (await h.request('GET', api(tenant, `/conversations/${conv.id}`))).body;
    expect(after).toMatchObject({ status: 'open', message_count: 3, last_message: 'Great, 2 adults.' });
    expect(
      (await h.request('GET', api(tenant, '/conversations?status=new,open,replied,qualified,archived'))).body.data,
    ).toHaveLength(1);

    const events = signedSendGridEvents(
      [
        sendgridEvent({
          event: 'delivered',
          email: 'ana@example.com',
          sgMessageId: `${sent.external_id}.filter0001.1.2.0`,
        }),
      ],
      privateKey,
    );
    const url = `${h.url}/webhooks/${tenant}/sendgrid/events`;
    const tampered = { method: 'POST', headers: events.headers, body: `${events.body} ` };
    expect((await fetch(url, tampered)).status).toBe(401);
    expect((await fetch(url, { method: 'POST', ...events })).status).toBe(200);
    expect(
      (
        await eventually(
          () => messageRow(tenant, reply.id),
          (r) => r.status === 'delivered',
        )
      ).status,
    ).toBe('delivered');
  });
});
