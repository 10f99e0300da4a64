// Outbound delivery end to end: POST /messages → BullMQ → worker → a fake provider on loopback.
// The fakes answer as the providers document:
// - WhatsApp: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (response `messages[0].id`)
// - Messenger: https://developers.facebook.com/docs/messenger-platform/reference/send-api/ (response `message_id`)
// - Twilio: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource (response `sid`)
// - SendGrid: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (202, `X-Message-Id` header)
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './support/env.js';
import { api } from './support/harness.js';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.js';
import { createAccount, type Stack, startStack } from './support/stack.js';
import { eventually, schemaOf } from './support/wait.js';

const APP_SECRET = 'wa-secret';
const PHONE_ID = '106540352242922';
let fake: FakeProvider;
let h: Stack;
let db: pg.Client;

const waOk = (_: unknown, n: number) => ({
  status: 200,
  body: {
    messaging_product: 'whatsapp',
    contacts: [{ input: '5511999990000', wa_id: '5511999990000' }],
    messages: [{ id: `wamid.fake${n}` }],
  },
});

beforeAll(async () => {
  fake = await startFakeProvider(waOk);
  h = await startStack({
    redis: true,
    worker: { sweepAfterMs: 0 },
    env: {
      WHATSAPP_API_URL: fake.url,
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

/** A WhatsApp tenant with a conversation whose customer just wrote (the 24-hour window is open). */
async function whatsappConversation(stack: Stack = h) {
  const tenant = await stack.createTenant('out');
  await createAccount(stack, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-token' },
  });
  const from = `55119${Math.floor(Math.random() * 1e8)}`;
  const webhook = signedMetaWebhook(
    whatsappWebhook([whatsappText({ from, name: 'Ana', text: 'hi' })], { phoneNumberId: PHONE_ID }),
    APP_SECRET,
  );
  const res = await fetch(`${stack.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...webhook });
  expect(res.status).toBe(200);
  const conv = (await stack.request('GET', api(tenant, '/conversations'))).body.data[0];
  return { tenant, conv, from };
}

const messageRow = async (tenant: string, id: number) =>
  (await db.query(`select status, external_id, error from "${schemaOf(tenant)}".inbox_messages where id = $1`, [id]))
    .rows[0];

describe('WhatsApp replies', () => {
  it('sends the documented request and stores the provider id', async () => {
    fake.respond(waOk);
    const { tenant, conv, from } = await whatsappConversation();
    const before = fake.requests.length;
    const msg = (
      await h.request('POST', api(tenant, '/messages'), {
        body: { conversation_id: conv.id, content: 'Your booking is confirmed' },
      })
    ).body;
    const row = await eventually(
      () => messageRow(tenant, msg.id),
      (r) => r.status === 'sent',
    );
    expect(row.status).toBe('sent');
    expect(row.external_id).toMatch(/^wamid\.fake\d+$/);
    const req = fake.requests.slice(before).find((r) => r.json?.to === from)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/${PHONE_ID}/messages`);
    expect(req.headers.authorization).toBe('Bearer EAAG-token');
    expect(req.json).toMatchObject({
      messaging_product: 'whatsapp',
      to: from,
      type: 'text',
      text: { body: 'Your booking is confirmed' },
    });
    const conversation = (await h.request('GET', api(tenant, `/conversations/${conv.id}`))).body;
    expect(conversation).toMatchObject({
      status: 'replied',
      last_message: 'Your booking is confirmed',
      message_count: 2,
    });
  });

  it('retries a transient error (500, then 429) until sent', async () => {
    const { tenant, conv, from } = await whatsappConversation();
    let calls = 0;
    fake.respond((req, n) => {
      if (req.json?.to !== from) return waOk(req, n);
      calls += 1;
      if (calls === 1) return { status: 500, body: { error: { message: 'Service temporarily unavailable', code: 2 } } };
      if (calls === 2) return { status: 429, body: { error: { message: '(#130429) Rate limit hit', code: 130429 } } };
      return waOk(req, n);
    });
    const msg = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'retry me' } })
    ).body;
    const row = await eventually(
      () => messageRow(tenant, msg.id),
      (r) => r.status === 'sent',
      30_000,
    );
    expect(row.status).toBe('sent');
    expect(calls).toBe(3);
  });

  it('fails at once on a permanent error, with the provider code', async () => {
    const { tenant, conv, from } = await whatsappConversation();
    let calls = 0;
    fake.respond((req, n) => {
      if (req.json?.to !== from) return waOk(req, n);
      calls += 1;
      return {
        status: 400,
        body: {
          error: { message: '(#131026) Message undeliverable', type: 'OAuthException', code: 131026, fbtrace_id: 'A' },
        },
      };
    });
    const events: string[] = [];
    const off = h.runtime.bus.subscribe((e) => e.tenant === tenant && events.push(e.type));
    const msg = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'nope' } })
    ).body;
    const row = await eventually(
      () => messageRow(tenant, msg.id),
      (r) => r.status === 'failed',
    );
    await eventually(
      async () => events.includes('message_failed'),
      (x) => x,
      5_000,
    );
    off();
    expect(row.status).toBe('failed');
    expect(row.error.code).toBe('131026');
    expect(calls).toBe(1);
    expect(events).toContain('message_failed');
    // Retry through the API once the cause is fixed.
    fake.respond(waOk);
    expect((await h.request('POST', api(tenant, `/messages/${msg.id}/retry`))).status).toBe(202);
    expect(
      (
        await eventually(
          () => messageRow(tenant, msg.id),
          (r) => r.status === 'sent',
        )
      ).status,
    ).toBe('sent');
  });

  it('never sends one message twice: duplicate enqueues and a second worker pass', async () => {
    fake.respond(async (req, n) => {
      await new Promise((r) => setTimeout(r, 200));
      return waOk(req, n);
    });
    const { tenant, conv, from } = await whatsappConversation();
    const msg = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'only once' } })
    ).body;
    await Promise.all([1, 2, 3].map(() => h.runtime.queues.add('outbound-send', { tenant, message_id: msg.id })));
    await eventually(
      () => messageRow(tenant, msg.id),
      (r) => r.status === 'sent',
    );
    // A restarted worker's sweep and a late duplicate job find the provider id and send nothing.
    await h.worker!.sweep();
    await h.runtime.queues.add('outbound-send', { tenant, message_id: msg.id });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'only once')).toHaveLength(1);
    fake.respond(waOk);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function startRedis(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => {
      if (String(d).includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
}

describe('Redis outage', () => {
  it('accepts replies while Redis is down and sends them once it is back; the process survives', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const stack = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, WHATSAPP_API_URL: fake.url },
    });
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    process.on('unhandledRejection', onRejection);
    try {
      fake.respond(waOk);
      const { tenant, conv, from } = await whatsappConversation(stack);
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      const res = await stack.request('POST', api(tenant, '/messages'), {
        body: { conversation_id: conv.id, content: 'sent during the outage' },
      });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('pending');
      expect((await messageRow(tenant, res.body.id)).status).toBe('pending');
      redis = await startRedis(port);
      const row = await eventually(
        async () => {
          await stack.worker!.sweep();
          return messageRow(tenant, res.body.id);
        },
        (r) => r.status === 'sent',
        30_000,
      );
      expect(row.status).toBe('sent');
      expect(
        fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'sent during the outage'),
      ).toHaveLength(1);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await stack.close();
      redis.kill('SIGKILL');
    }
  }, 60_000);
});

describe('worker lifecycle', () => {
  it('a worker stopping mid-send finishes the job in hand; the next worker sends nothing twice', async () => {
    const a = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { WHATSAPP_API_URL: fake.url, QUEUE_PREFIX: 'lifecycle' },
    });
    const { tenant, conv, from } = await whatsappConversation(a);
    let started = false;
    fake.respond(async (req, n) => {
      if (req.json?.to === from) {
        started = true;
        await new Promise((r) => setTimeout(r, 1_500));
      }
      return waOk(req, n);
    });
    const msg = (
      await a.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'slow send' } })
    ).body;
    await eventually(
      async () => started,
      (s) => s,
    );
    await a.close(); // SIGTERM path: stops taking jobs, waits for the one in hand
    expect((await messageRow(tenant, msg.id)).status).toBe('sent');
    const b = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { WHATSAPP_API_URL: fake.url, QUEUE_PREFIX: 'lifecycle' },
    });
    try {
      await b.worker!.sweep();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'slow send')).toHaveLength(1);
    } finally {
      fake.respond(waOk);
      await b.close();
    }
  });

  it('the embedded mode (in-process queue, no Redis) sends replies through the same processors', async () => {
    fake.respond(waOk);
    const e = await startStack({ worker: true, env: { WHATSAPP_API_URL: fake.url } });
    try {
      expect(e.runtime.queues.kind).toBe('in-process');
      const { tenant, conv, from } = await whatsappConversation(e);
      const msg = (
        await e.request('POST', api(tenant, '/messages'), {
          body: { conversation_id: conv.id, content: 'embedded reply' },
        })
      ).body;
      const row = await eventually(
        () => messageRow(tenant, msg.id),
        (r) => r.status === 'sent',
      );
      expect(row.external_id).toMatch(/^wamid\.fake/);
      expect(fake.requests.filter((r) => r.json?.to === from)).toHaveLength(1);
    } finally {
      await e.close();
    }
  });
});
