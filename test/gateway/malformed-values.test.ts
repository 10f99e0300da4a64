// Correctly signed webhooks carrying a value the provider does not document (issue 21 point 2): 400 problem+json
// naming the field, kept as a rejected receipt (a webhook_events row with its error, no conversation or message),
// and a redelivery of the same webhook is 400 again with no second row; never a 503, which providers redeliver for
// days. WhatsApp, Messenger, Twilio (inbound and status) and SendGrid (Inbound Parse and Event Webhook), against the
// real PostgreSQL and Redis. Webhooks are built and signed with the adapters' testing kits; the bad values follow the
// cases of the adapters' fixtures (adapters/*/src/fixtures/README.md).
import { withValueSet } from '@comms/adapter-kit/testing';
import { messengerText, messengerWebhook, signedMetaWebhook } from '@comms/adapter-messenger/testing';
import {
  sendgridEvent,
  sendgridEventKeys,
  sendgridInboundForm,
  signedSendGridEvents,
} from '@comms/adapter-sendgrid/testing';
import { signedTwilioWebhook, twilioInboundParams, twilioStatusParams } from '@comms/adapter-twilio/testing';
import { whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { describe, expect, it } from 'vitest';
import { db, h, PUBLIC_BASE, useRoundTripStack } from '../support/round-trip.js';
import { createAccount } from '../support/stack.js';
import { schemaOf } from '../support/wait.js';

useRoundTripStack();

const SECRET = 'meta-app-secret';
const TWILIO_TOKEN = 'twilio-token';
const TWILIO_SID = 'AC00000000000000000000000000000001';
const NUMBER = '+14155550100';
const INBOUND = 'support@inbound.acme.example';
const { privateKey, publicKey } = sendgridEventKeys();

/** A tenant with one account of every provider. */
async function tenantWithAccounts() {
  const tenant = await h.createTenant('bad');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: '106540352242922',
    credentials: { app_secret: SECRET, access_token: 'EAAG' },
  });
  await createAccount(h, tenant, {
    provider: 'messenger',
    identifier: '1234567890123',
    credentials: { app_secret: SECRET, page_access_token: 'PAGE' },
  });
  await createAccount(h, tenant, {
    provider: 'sms',
    identifier: NUMBER,
    credentials: { account_sid: TWILIO_SID, auth_token: TWILIO_TOKEN },
  });
  await createAccount(h, tenant, {
    provider: 'email',
    identifier: INBOUND,
    credentials: { api_key: 'SG.key', inbound_token: 'inbound-secret', event_public_key: publicKey },
  });
  return tenant;
}

const rows = async (tenant: string, table: string) =>
  (await db.query(`select * from "${schemaOf(tenant)}".${table} order by id`)).rows;

/**
 * Posts the webhook twice (the provider's redelivery): 400 problem+json naming `field` both times, one rejected
 * receipt with its error and nothing else stored.
 */
async function expectRefusedAndKept(tenant: string, provider: string, field: string, send: () => Promise<Response>) {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const res = await send();
    const text = await res.text();
    expect(res.status, text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = JSON.parse(text);
    expect(problem).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(problem.detail).toContain(field);
    expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
  }
  const receipts = await rows(tenant, 'webhook_events');
  expect(receipts).toHaveLength(1);
  expect(receipts[0]).toMatchObject({ provider });
  expect(receipts[0].error).toContain(field);
  expect(receipts[0].processed_at).not.toBeNull();
  expect(receipts[0].payload.length).toBeGreaterThan(0);
  expect(await rows(tenant, 'inbox_conversations')).toEqual([]);
  expect(await rows(tenant, 'inbox_messages')).toEqual([]);
}

describe('signed webhooks with malformed values', () => {
  it('WhatsApp: a message timestamp "abc" is 400 and a rejected receipt, not a 503', async () => {
    const tenant = await tenantWithAccounts();
    const payload = withValueSet(
      whatsappWebhook([whatsappText({ from: '5511999990000', text: 'Olá' })]),
      'entry.0.changes.0.value.messages.0.timestamp',
      'abc',
    );
    const signed = signedMetaWebhook(payload, SECRET);
    await expectRefusedAndKept(tenant, 'whatsapp', 'entry[0].changes[0].value.messages[0].timestamp', () =>
      fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...signed }),
    );
    // The account still takes well-formed webhooks.
    const good = signedMetaWebhook(whatsappWebhook([whatsappText({ from: '5511999990000', text: 'Olá' })]), SECRET);
    expect((await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...good })).status).toBe(200);
    expect(await rows(tenant, 'inbox_messages')).toHaveLength(1);
  });

  it('Messenger: a timestamp far in the future (year 5138) is 400 and a rejected receipt', async () => {
    const account = '1234567890123';
    const tenant = await tenantWithAccounts();
    const payload = messengerWebhook({
      account,
      messaging: [messengerText({ account, from: '6543210987654321', text: 'Hi', timestamp: 99_999_999_999_999 })],
    });
    const signed = signedMetaWebhook(payload, SECRET);
    await expectRefusedAndKept(tenant, 'messenger', 'entry[0].messaging[0].timestamp', () =>
      fetch(`${h.url}/webhooks/${tenant}/messenger`, { method: 'POST', ...signed }),
    );
  });

  it('Twilio: an over-long MessageSid (inbound) and an undocumented MessageStatus (status callback)', async () => {
    const post = (tenant: string, path: string, params: Record<string, string>) => {
      const signed = signedTwilioWebhook(params, {
        url: `${PUBLIC_BASE}/webhooks/${tenant}/${path}`,
        authToken: TWILIO_TOKEN,
      });
      return () => fetch(`${h.url}/webhooks/${tenant}/${path}`, { method: 'POST', ...signed });
    };
    const inbound = await tenantWithAccounts();
    const params = twilioInboundParams({ from: '+447700900123', to: NUMBER, body: 'Hi', accountSid: TWILIO_SID });
    await expectRefusedAndKept(
      inbound,
      'twilio',
      'MessageSid',
      post(inbound, 'twilio', { ...params, MessageSid: `SM${'a'.repeat(2000)}` }),
    );

    const status = await tenantWithAccounts();
    const callback = twilioStatusParams({
      sid: 'SM5f0e8ae6ade43cb3c0ce4525424e404f',
      status: 'delivered',
      from: NUMBER,
      to: '+447700900123',
      accountSid: TWILIO_SID,
    });
    await expectRefusedAndKept(
      status,
      'twilio_status',
      'MessageStatus',
      post(status, 'twilio/status', { ...callback, MessageStatus: 'bounced' }),
    );
  });

  it('SendGrid: an envelope that is not JSON (Inbound Parse) and an event timestamp in the year 5138', async () => {
    const inbound = await tenantWithAccounts();
    const form = sendgridInboundForm({ to: INBOUND, from: 'ana@example.com', text: 'Rooms?' });
    form.set('envelope', '{to: support@inbound.acme.example');
    // The same bytes both times, as SendGrid redelivers them (a FormData gets a new boundary on every fetch).
    const multipart = new Response(form);
    const headers = { 'content-type': multipart.headers.get('content-type')! };
    const body = new Uint8Array(await multipart.arrayBuffer());
    await expectRefusedAndKept(inbound, 'sendgrid_inbound', 'envelope', () =>
      fetch(`${h.url}/webhooks/${inbound}/sendgrid/inbound?token=inbound-secret`, { method: 'POST', headers, body }),
    );

    const events = await tenantWithAccounts();
    const batch = signedSendGridEvents(
      [
        sendgridEvent({
          event: 'delivered',
          email: 'ana@example.com',
          sgMessageId: 'SG1.filter0001.1.2.0',
          sgEventId: 'event-1',
          timestamp: 99_999_999_999,
        }),
      ],
      privateKey,
    );
    await expectRefusedAndKept(events, 'sendgrid_events', '[0].timestamp', () =>
      fetch(`${h.url}/webhooks/${events}/sendgrid/events`, { method: 'POST', ...batch }),
    );
  });
});
