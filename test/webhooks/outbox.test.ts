// The outbox of outgoing webhooks (issue 15) for the inbox's own changes: an agent's reply, its send, its delivery
// status and a failed send each commit with their delivery rows, in one transaction. When the outbox cannot be
// written, the change does not commit either (so there is never a change without its webhook), and it goes through
// once the outbox is back. Against the real PostgreSQL and Redis, the worker running, WhatsApp faked on loopback.
// WhatsApp payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { signedMetaWebhook, whatsappStatus, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { rememberSecrets } from '../support/log-capture.js';
import { db, fake, h, messageRow, useProviderStack } from '../support/provider-stack.js';
import { createAccount } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const APP_SECRET = 'wa-app-secret-for-outbox-tests';
const PHONE_ID = '106540352242923';
const CUSTOMER = '5511944443333';

let wamids = 0;
useProviderStack({
  // The Cloud API's answer to a send: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
  responder: (req) =>
    req.json?.text?.body === 'refused'
      ? { status: 400, body: { error: { message: 'Invalid parameter', type: 'OAuthException', code: 100 } } }
      : { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: `wamid.outbox${++wamids}` }] } },
  env: { WEBHOOK_ALLOW_PRIVATE: 'true' },
});

const receivers: Receiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.close();
});

/** A tenant with a WhatsApp account, a conversation the customer opened, and an endpoint for every event. */
async function subscribedTenant() {
  const tenant = await h.createTenant('obx');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-outbox', verify_token: 'verify-me' },
  });
  await inbound(tenant, whatsappWebhook([whatsappText({ from: CUSTOMER, text: 'Olá' })], { phoneNumberId: PHONE_ID }));
  const conversation = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
  const r = await startReceiver();
  receivers.push(r);
  const ep = await h.request('POST', api(tenant, '/webhook-endpoints'), { body: { url: r.url } });
  expect(ep.status, ep.text).toBe(201);
  rememberSecrets([ep.body.secret, ep.body.secret.slice('whsec_'.length)]);
  return { tenant, conversationId: conversation.id as number, receiver: r };
}

async function inbound(tenant: string, payload: unknown) {
  const { body, headers } = signedMetaWebhook(payload, APP_SECRET);
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', headers, body });
  expect(res.status).toBe(200);
}

/** The outbox rows of the tenant: event type and the message or conversation id the event is about. */
async function outbox(tenant: string): Promise<string[]> {
  const { rows } = await db.query(
    `select event_type, payload::jsonb -> 'data' ->> 'id' as id from "${schemaOf(tenant)}".webhook_deliveries order by id`,
  );
  return rows.map((r) => `${r.event_type} ${r.id}`);
}

describe('the outbox of the inbox', () => {
  it("records a reply's conversation change, its send, its delivery status and a failed send with their changes", async () => {
    const { tenant, conversationId, receiver } = await subscribedTenant();
    const reply = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conversationId, content: 'Bom dia! Como posso ajudar?' },
    });
    expect(reply.status, reply.text).toBe(202);
    const sent = await eventually(
      () => messageRow(tenant, reply.body.id),
      (row) => row?.status === 'sent',
    );
    await inbound(
      tenant,
      whatsappWebhook([whatsappStatus({ id: sent.external_id, status: 'delivered', recipient: CUSTOMER })], {
        phoneNumberId: PHONE_ID,
      }),
    );
    const refused = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conversationId, content: 'refused' },
    });
    expect(refused.status).toBe(202);
    await eventually(
      () => messageRow(tenant, refused.body.id),
      (row) => row?.status === 'failed',
    );
    const got = await receiver.waitFor(6);
    const types = got.map((r) => `${r.json.type} ${r.json.data.id}`).sort();
    expect(types).toEqual(
      [
        `conversation_updated ${conversationId}`,
        `message_sent ${reply.body.id}`,
        `message_delivered ${reply.body.id}`,
        `conversation_updated ${conversationId}`,
        `message_failed ${refused.body.id}`,
        `conversation_updated ${conversationId}`,
      ].sort(),
    );
    expect((await outbox(tenant)).sort()).toEqual(types);
    expect(got.find((r) => r.json.type === 'message_failed')!.json.data.error).toMatchObject({ code: '100' });
  });

  it('never commits a change without its deliveries: refused by the outbox, nothing changes; then it goes through', async () => {
    const { tenant, conversationId } = await subscribedTenant();
    const schema = schemaOf(tenant);
    const reply = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conversationId, content: 'Segue o orçamento' },
    });
    const sent = await eventually(
      () => messageRow(tenant, reply.body.id),
      (row) => row?.status === 'sent',
    );
    const before = await outbox(tenant);
    const calls = fake.requests.length;

    // The outbox refuses every row, as a full disk or a lost connection in the middle of the transaction would.
    await db.query(`create function "${schema}".refuse_outbox() returns trigger language plpgsql as
      $$ begin raise exception 'outbox unavailable'; end $$`);
    await db.query(`create trigger refuse before insert on "${schema}".webhook_deliveries
      for each statement execute function "${schema}".refuse_outbox()`);
    const another = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conversationId, content: 'not without its webhook' },
    });
    expect(another.status).toBeGreaterThanOrEqual(500);
    expect(another.headers.get('content-type')).toContain('application/problem+json');
    const status = await h.request('PUT', api(tenant, `/messages/${reply.body.id}/status`), {
      body: { status: 'read' },
    });
    expect(status.status).toBeGreaterThanOrEqual(500);
    // A delivery status from WhatsApp: the job fails and is retried, the message stays as it was.
    await inbound(
      tenant,
      whatsappWebhook([whatsappStatus({ id: sent.external_id, status: 'delivered', recipient: CUSTOMER })], {
        phoneNumberId: PHONE_ID,
      }),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const { rows: contents } = await db.query(
      `select content from "${schema}".inbox_messages where direction = 'out' order by id`,
    );
    expect(contents.map((r) => r.content)).toEqual(['Segue o orçamento']);
    expect((await messageRow(tenant, reply.body.id))!.status).toBe('sent');
    expect(await outbox(tenant)).toEqual(before);
    expect(fake.requests.length).toBe(calls);

    // The outbox is back: the status job's retry applies it, and its delivery commits with it.
    await db.query(`drop trigger refuse on "${schema}".webhook_deliveries`);
    await eventually(
      () => messageRow(tenant, reply.body.id),
      (row) => row?.status === 'delivered',
      20_000,
    );
    expect(await outbox(tenant)).toEqual([...before, `message_delivered ${reply.body.id}`]);
  });
});
