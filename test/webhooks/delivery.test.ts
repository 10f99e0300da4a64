// Outgoing webhooks end to end (issue 15), against the real PostgreSQL and Redis with the worker running: events of
// our own changes reach receivers on loopback, signed as the Standard Webhooks specification says
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md), and the receivers
// check them with the `standardwebhooks` package, not with our signing code.
// WhatsApp payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { randomUUID } from 'node:crypto';
import { newWamid, signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { rememberSecrets } from '../support/log-capture.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const APP_SECRET = 'wa-app-secret-for-webhook-tests';
const PHONE_ID = '106540352242922';

let h: Stack;
const receivers: Receiver[] = [];

beforeAll(async () => {
  h = await startStack({
    redis: true,
    worker: true,
    env: {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      // Svix's schedule, in fractions of a second.
      WEBHOOK_RETRY_SCHEDULE: '0,0.2,0.3,0.3,0.3',
      WEBHOOK_TIMEOUT_MS: '700',
      WEBHOOK_SECRET_OVERLAP_MS: '2500',
    },
  });
});
afterAll(async () => {
  for (const r of receivers) await r.close();
  await h.close();
});

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

async function endpoint(tenant: string, body: Record<string, unknown>) {
  const res = await h.request('POST', api(tenant, '/webhook-endpoints'), { body });
  expect(res.status, res.text).toBe(201);
  // The suite's teardown scans every log line of the run for it (test/support/log-capture.ts).
  rememberSecrets([res.body.secret, res.body.secret.slice('whsec_'.length)]);
  return res.body as { id: number; secret: string; url: string };
}

async function inbound(tenant: string, text: string, from = '5511999990000') {
  const { body, headers } = signedMetaWebhook(
    whatsappWebhook([whatsappText({ from, text, id: newWamid() })]),
    APP_SECRET,
  );
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', headers, body });
  expect(res.status).toBe(200);
}

async function whatsappTenant() {
  const tenant = await h.createTenant('wh');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-test', verify_token: 'verify-me' },
  });
  return tenant;
}

const deliveriesOf = async (tenant: string, endpointId: number, query = '') =>
  (await h.request('GET', api(tenant, `/webhook-endpoints/${endpointId}/deliveries${query}`))).body;

describe('outgoing webhooks', () => {
  it('delivers an inbound WhatsApp message and a qualification once each, signed', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver();
    const ep = await endpoint(tenant, {
      url: r.url,
      description: 'CRM',
      event_types: ['message_received', 'conversation_qualified'],
    });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(ep.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    await inbound(tenant, 'Quero um pacote para Lisboa');
    const [message] = await r.waitFor(1);
    expect(message!.json.type).toBe('message_received');
    expect(message!.json.data).toMatchObject({
      direction: 'in',
      content: 'Quero um pacote para Lisboa',
      conversation: { channel: 'whatsapp', contact_identifier: '5511999990000' },
    });
    expect(r.verifies(message!, ep.secret)).toBe(true);
    expect(r.verifies(message!, `whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toBe(false);
    expect(message!.id).toMatch(/^msg_/);
    expect(message!.contentType).toBe('application/json');
    expect(message!.userAgent).toMatch(/comms-webhooks/);
    expect(Math.abs(Number(message!.timestamp) - Date.now() / 1000)).toBeLessThan(10);

    const conversationId = message!.json.data.conversation_id;
    const q = await h.request('POST', api(tenant, `/conversations/${conversationId}/qualify`), {
      body: { lead_id: 'lead-4711', notes: 'wants Lisbon in May' },
    });
    expect(q.status, q.text).toBe(200);
    const [, qualified] = await r.waitFor(2);
    expect(qualified!.json.type).toBe('conversation_qualified');
    expect(qualified!.json.data).toMatchObject({ id: conversationId, is_lead: true, lead_id: 'lead-4711' });
    expect(r.verifies(qualified!, ep.secret)).toBe(true);

    // Once each: nothing else arrives (conversation_created and _updated are not subscribed).
    await new Promise((res) => setTimeout(res, 600));
    expect(r.received.map((x) => x.json.type)).toEqual(['message_received', 'conversation_qualified']);
    const log = await deliveriesOf(tenant, ep.id);
    expect(log.data.map((d: { status: string }) => d.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('retries a receiver answering 500 twice with the same webhook-id, and lists the attempts', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver((n) => (n < 2 ? 500 : 200));
    const ep = await endpoint(tenant, { url: r.url, event_types: ['message_received'] });
    await inbound(tenant, 'hello?');
    const got = await r.waitFor(3);
    expect(new Set(got.map((x) => x.id)).size).toBe(1);
    for (const x of got) expect(r.verifies(x, ep.secret)).toBe(true);
    const log = await eventually(
      () => deliveriesOf(tenant, ep.id),
      (b) => b.data[0]?.status === 'succeeded',
    );
    expect(log.data).toHaveLength(1);
    expect(log.data[0].event_id).toBe(got[0]!.id);
    expect(log.data[0].attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
    expect(log.data[0].attempts[0].response_body).toBe('refused with 500');
    expect(log.data[0].attempts[0].duration_ms).toBeGreaterThanOrEqual(0);
    // Filters: by status and by event type.
    expect((await deliveriesOf(tenant, ep.id, '?status=failed')).data).toHaveLength(0);
    expect((await deliveriesOf(tenant, ep.id, '?event_type=message_received')).data).toHaveLength(1);
    expect((await deliveriesOf(tenant, ep.id, '?event_type=message_sent')).data).toHaveLength(0);
  });

  it('disables the endpoint at a 410 Gone and tells the tenant admins over the WebSocket', async () => {
    const tenant = await whatsappTenant();
    const admin = await h.ws(tenant, await h.token({ tenant, role: 'tenant_admin' }));
    const agent = await h.ws(tenant, await h.token({ tenant, role: 'tenant_user' }));
    const r = await receiver(() => 410);
    const ep = await endpoint(tenant, { url: r.url, event_types: ['message_received'] });
    await inbound(tenant, 'first');
    await r.waitFor(1);
    const frame = await admin.waitFor((f) => f.type === 'webhook_endpoint_disabled');
    expect(frame.data).toMatchObject({ endpoint_id: ep.id, reason: expect.stringContaining('410') });
    const got = await h.request('GET', api(tenant, `/webhook-endpoints/${ep.id}`));
    expect(got.body).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('410') });
    // Nothing more goes to it, and only admins heard of it.
    await inbound(tenant, 'second');
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);
    expect(agent.frames.some((f) => f.type === 'webhook_endpoint_disabled')).toBe(false);
    await admin.close();
    await agent.close();
  });

  it('retries a receiver that hangs past the timeout', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver((n) => (n === 0 ? 'hang' : 200));
    const ep = await endpoint(tenant, { url: r.url });
    const test = await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/test`));
    expect(test.status, test.text).toBe(202);
    expect(test.body).toMatchObject({ event_type: 'webhook.test', status: 'pending' });
    const got = await r.waitFor(2);
    expect(got[0]!.id).toBe(got[1]!.id);
    expect(got[1]!.json).toMatchObject({ type: 'webhook.test', data: { endpoint_id: ep.id } });
    const log = await eventually(
      () => deliveriesOf(tenant, ep.id),
      (b) => b.data[0]?.status === 'succeeded',
    );
    const [first, second] = log.data[0].attempts;
    expect(first).toMatchObject({ status_code: null, error: expect.stringContaining('no answer within 700 ms') });
    expect(first.duration_ms).toBeGreaterThanOrEqual(650);
    expect(second).toMatchObject({ status_code: 200 });
  });

  it('signs with both secrets during a rotation, and with the new one only after the overlap', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver();
    const ep = await endpoint(tenant, { url: r.url });
    const rotated = await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/rotate-secret`));
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body.secret as string;
    rememberSecrets([fresh, fresh.slice('whsec_'.length)]);
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(ep.secret);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();

    await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/test`));
    const [during] = await r.waitFor(1);
    expect(during!.signature.split(' ')).toHaveLength(2);
    expect(r.verifies(during!, fresh)).toBe(true);
    expect(r.verifies(during!, ep.secret)).toBe(true);

    await new Promise((res) => setTimeout(res, 2_600));
    await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/test`));
    const [, after] = await r.waitFor(2);
    expect(after!.signature.split(' ')).toHaveLength(1);
    expect(r.verifies(after!, fresh)).toBe(true);
    expect(r.verifies(after!, ep.secret)).toBe(false);
  });

  it('replays every event since a time, in order, with the original ids', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver();
    const ep = await endpoint(tenant, { url: r.url, event_types: ['message_received'] });
    const since = new Date().toISOString();
    for (const text of ['one', 'two', 'three', 'four']) {
      await inbound(tenant, text);
      await r.waitFor(['one', 'two', 'three', 'four'].indexOf(text) + 1);
    }
    const first = r.received.map((x) => x.id);
    const replay = await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/replay`), { body: { since } });
    expect(replay.status, replay.text).toBe(202);
    expect(replay.body).toEqual({ replayed: 4 });
    const all = await r.waitFor(8);
    expect(all.slice(4).map((x) => x.id)).toEqual(first);
    expect(all.slice(4).map((x) => x.json.data.content)).toEqual(['one', 'two', 'three', 'four']);
    for (const x of all.slice(4)) expect(r.verifies(x, ep.secret)).toBe(true);
  });

  it('retries one delivery on request, with its webhook-id', async () => {
    const tenant = await whatsappTenant();
    const r = await receiver((n) => (n < 5 ? 503 : 200));
    const ep = await endpoint(tenant, { url: r.url });
    await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/test`));
    const failed = await eventually(
      () => deliveriesOf(tenant, ep.id),
      (b) => b.data[0]?.status === 'failed',
    );
    expect(failed.data[0].attempts).toHaveLength(5);
    const retried = await h.request('POST', api(tenant, `/webhook-deliveries/${failed.data[0].id}/retry`));
    expect(retried.status, retried.text).toBe(202);
    const got = await r.waitFor(6);
    expect(got[5]!.id).toBe(failed.data[0].event_id);
    const done = await eventually(
      () => deliveriesOf(tenant, ep.id),
      (b) => b.data[0]?.status === 'succeeded',
    );
    expect(done.data[0].attempts.map((a: { status_code: number }) => a.status_code)).toEqual([
      503, 503, 503, 503, 503, 200,
    ]);
  });

  it("keeps the secret out of every answer after creation; other tenants' endpoints are 404, agents 403", async () => {
    const tenant = await whatsappTenant();
    const other = await h.createTenant('wh');
    const r = await receiver();
    const ep = await endpoint(tenant, { url: r.url });
    await h.request('POST', api(tenant, `/webhook-endpoints/${ep.id}/test`));
    await r.waitFor(1);
    const reads = [
      await h.request('GET', api(tenant, '/webhook-endpoints')),
      await h.request('GET', api(tenant, `/webhook-endpoints/${ep.id}`)),
      await h.request('PUT', api(tenant, `/webhook-endpoints/${ep.id}`), { body: { description: 'renamed' } }),
      await h.request('GET', api(tenant, `/webhook-endpoints/${ep.id}/deliveries`)),
    ];
    for (const res of reads) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).not.toContain(ep.secret);
      expect(res.text).not.toContain(ep.secret.slice(6));
      expect(res.text).not.toContain('secret_encrypted');
    }
    const stored = await h.runtime.database.db.execute(
      `select secret_encrypted from "tenant_${tenant.replaceAll('-', '_')}".webhook_endpoints` as never,
    );
    expect(JSON.stringify(stored)).not.toContain(ep.secret.slice(6));

    const otherAdmin = await h.token({ tenant: other, role: 'tenant_admin' });
    const deliveryId = reads[3]!.body.data[0].id;
    for (const [method, path] of [
      ['GET', `/webhook-endpoints/${ep.id}`],
      ['PUT', `/webhook-endpoints/${ep.id}`],
      ['DELETE', `/webhook-endpoints/${ep.id}`],
      ['GET', `/webhook-endpoints/${ep.id}/deliveries`],
      ['POST', `/webhook-endpoints/${ep.id}/test`],
      ['POST', `/webhook-endpoints/${ep.id}/rotate-secret`],
      ['POST', `/webhook-deliveries/${deliveryId}/retry`],
    ] as const) {
      const res = await h.request(method, api(other, path), {
        token: otherAdmin,
        ...(method === 'PUT' ? { body: { description: 'x' } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    // With tenant B's token on tenant A's path: 403, as every tenant route.
    expect((await h.request('GET', api(tenant, `/webhook-endpoints/${ep.id}`), { token: otherAdmin })).status).toBe(
      403,
    );
    const agent = await h.token({ tenant, role: 'tenant_user', sub: randomUUID() });
    const refused = await h.request('GET', api(tenant, '/webhook-endpoints'), { token: agent });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/tenant admins/);
  });

  it('refuses bad input with problem+json', async () => {
    const tenant = await h.createTenant('wh');
    for (const body of [
      { url: 'not a url' },
      { url: 'ftp://example.com/hook' },
      { url: 'https://user:pw@example.com/hook' },
    ]) {
      const res = await h.request('POST', api(tenant, '/webhook-endpoints'), { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail).toMatch(/url/);
    }
    for (const body of [{}, { url: 'https://example.com', event_types: ['nope'] }, { url: 'https://e.com', x: 1 }]) {
      const res = await h.request('POST', api(tenant, '/webhook-endpoints'), { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const replay = await h.request('POST', api(tenant, '/webhook-endpoints/1/replay'), {
      body: { since: 'yesterday' },
    });
    expect(replay.status).toBe(400);
  });
});
