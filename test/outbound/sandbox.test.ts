// The sandbox transport (issue 21 point 15): a reply through a simulated account, on every channel the simulator
// knows, goes sent → delivered → read within a second, the statuses coming back as the provider's own signed
// webhooks through the gateway, and nothing leaving loopback; an account that is not a sandbox account is never
// faked; a sandbox account's reply is never sent to a provider, even with the sandbox off.
import { loadConfig } from '@comms/core/platform';
import { buildSimulatedWebhook, SIMULATED_PROVIDERS, type SimulatedProvider } from '@comms/tools/webhooks';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDb } from '../support/env.js';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.js';
import { api, type WsClient } from '../support/harness.js';
import { waOk, whatsappConversation } from '../support/outbound.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';

// Twilio signs the public URL it calls: the sandbox signs for it, and posts to the stack's own gateway on loopback.
const PUBLIC_BASE = 'https://comms.example.com';
const SECRET = 'simulator-secret';

/** The shape of each provider's message id (wamid, mid, Message SID, SendGrid's X-Message-Id). */
const PROVIDER_ID: Record<SimulatedProvider, RegExp> = {
  whatsapp: /^wamid\.[0-9a-f]{32}$/,
  messenger: /^m_[0-9a-f]{24}$/,
  instagram: /^m_[0-9a-f]{24}$/,
  sms: /^SM[0-9a-f]{32}$/,
  twilio_whatsapp: /^SM[0-9a-f]{32}$/,
  email: /^[\w-]{22}$/,
};
/** The gateway route the provider's statuses come back on (its name is the receipt's `provider` in webhook_events). */
const STATUS_ROUTE: Record<SimulatedProvider, string> = {
  whatsapp: 'whatsapp',
  messenger: 'messenger',
  instagram: 'messenger',
  sms: 'twilio_status',
  twilio_whatsapp: 'twilio_status',
  email: 'sendgrid_events',
};

let fake: FakeProvider;
let db: pg.Client;
const realFetch = globalThis.fetch;
/** Every URL this process fetched while the stacks ran (the sandbox posts with fetch). */
const fetched: string[] = [];

beforeAll(async () => {
  fake = await startFakeProvider(waOk);
  db = await connectTestDb();
  globalThis.fetch = (input, init) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return realFetch(input, init);
  };
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await db.end();
  await fake.close();
});

/** The whole service with every provider's API pointed at the recording fake on loopback. */
function stack(sandbox: 'true' | 'false') {
  return startStack({
    worker: true,
    env: {
      SANDBOX_TRANSPORT: sandbox,
      SANDBOX_STATUS_DELAY_MS: '50',
      PUBLIC_BASE_URL: PUBLIC_BASE,
      WHATSAPP_API_URL: fake.url,
      MESSENGER_API_URL: fake.url,
      TWILIO_API_URL: fake.url,
      SENDGRID_API_URL: fake.url,
    },
  });
}

/** `npm run simulate -- <provider>` against the stack: the Simulator account, then the customer's signed webhook. */
async function simulate(h: Stack, tenant: string, provider: SimulatedProvider) {
  const webhook = buildSimulatedWebhook(provider, {
    baseUrl: PUBLIC_BASE,
    tenant,
    name: 'Simulated Customer',
    text: `Hello on ${provider}`,
    secret: SECRET,
  });
  const accountId = await createAccount(h, tenant, { ...webhook.account, provider, name: 'Simulator' });
  const res = await realFetch(webhook.url.replace(PUBLIC_BASE, h.url), {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
  });
  expect(res.status, await res.text()).toBe(200);
  const conversation = (await h.request('GET', api(tenant, `/conversations?channel=${provider}`))).body.data[0];
  expect(conversation, provider).toMatchObject({ channel: provider, contact_identifier: webhook.contact });
  return { accountId, conversation };
}

async function reply(h: Stack, tenant: string, conversationId: number, content: string) {
  const res = await h.request('POST', api(tenant, '/messages'), {
    body: { conversation_id: conversationId, type: 'text', content },
  });
  expect(res.status, res.text).toBe(202);
  expect(res.body.status).toBe('pending');
  return res.body as { id: number };
}

/** The conversation's reply, as the API shows it. */
async function replyOf(h: Stack, tenant: string, conversationId: number, id: number) {
  const list = (await h.request('GET', api(tenant, `/messages/conversation/${conversationId}`))).body.data;
  return list.find((m: { id: number }) => m.id === id);
}

describe('sandbox transport on', () => {
  let h: Stack;
  let tenant: string;
  let ws: WsClient;
  beforeAll(async () => {
    h = await stack('true');
    tenant = await h.createTenant('sandbox');
    ws = await h.ws(tenant, await h.token({ tenant, role: 'tenant_admin' }));
  });
  afterAll(async () => {
    await ws.close();
    await h.close();
  });

  it('a reply on every simulated channel goes sent → delivered → read through the gateway, offline', async () => {
    const fetchedBefore = fetched.length;
    const started = Date.now();
    const sent = await Promise.all(
      SIMULATED_PROVIDERS.map(async (provider) => {
        const { accountId, conversation } = await simulate(h, tenant, provider);
        const message = await reply(h, tenant, conversation.id, `Reply on ${provider}`);
        return { provider, accountId, conversationId: conversation.id as number, messageId: message.id };
      }),
    );

    for (const { provider, accountId, conversationId, messageId } of sent) {
      // The message row, through the API.
      const row = await eventually(
        () => replyOf(h, tenant, conversationId, messageId),
        (m) => m?.status === 'read',
        10_000,
      );
      expect(row, provider).toMatchObject({ direction: 'out', status: 'read', error: null });
      expect(row.external_id, provider).toMatch(PROVIDER_ID[provider]);
      // Every step was published in order, as the agents' front end sees it (the last frame may still be on its way
      // when the row already says read: events are published after their change commits).
      const stepsOf = async () =>
        ws.frames
          .filter((f) => f.data?.id === messageId && /^message_(sent|delivered|read)$/.test(f.type))
          .map((f) => [f.type, f.data?.status]);
      const steps = await eventually(stepsOf, (s) => s.length >= 3, 10_000);
      expect(steps, provider).toEqual([
        ['message_sent', 'sent'],
        ['message_delivered', 'delivered'],
        ['message_read', 'read'],
      ]);
      // The statuses came in as the provider's own webhooks: the gateway verified and stored two receipts.
      const receipts = await db.query(
        `select provider, payload from "${schemaOf(tenant)}".webhook_events
          where channel_account_id = $1 and provider = $2 order by id`,
        [accountId, STATUS_ROUTE[provider]],
      );
      const statusReceipts = receipts.rows.filter((r) => !r.payload.includes(`Hello on ${provider}`));
      expect(statusReceipts, provider).toHaveLength(2);
    }
    // Within seconds, not the 95 s of retries a reply to graph.facebook.com took.
    expect(Date.now() - started).toBeLessThan(10_000);

    // Nothing went to a provider, and everything the process fetched was its own gateway on loopback.
    expect(fake.requests).toEqual([]);
    const hosts = new Set(fetched.slice(fetchedBefore).map((u) => new URL(u).host));
    expect([...hosts]).toEqual([new URL(h.url).host]);
    const gatewayPosts = fetched.slice(fetchedBefore).filter((u) => u.includes(`/webhooks/${tenant}/`));
    expect(gatewayPosts.length).toBe(2 * SIMULATED_PROVIDERS.length);
  });

  it('an account that is not a sandbox account is sent to its provider and never faked', async () => {
    const before = fake.requests.length;
    const { tenant: real, conv } = await whatsappConversation(h);
    const message = await reply(h, real, conv.id, 'A real reply');
    const sent = await eventually(
      () => replyOf(h, real, conv.id, message.id),
      (m) => m?.status === 'sent',
    );
    expect(sent.external_id).toMatch(/^wamid\.fake\d+$/);
    expect(fake.requests.slice(before)).toHaveLength(1);
    // Long past the sandbox's delays: no status was made up for it, and no webhook came back.
    await new Promise((r) => setTimeout(r, 500));
    expect((await replyOf(h, real, conv.id, message.id)).status).toBe('sent');
    const receipts = await db.query(`select count(*)::int as n from "${schemaOf(real)}".webhook_events`);
    expect(receipts.rows[0].n).toBe(1); // the customer's message only
  });

  it('shows sandbox accounts as such, and keeps the signing key write-only', async () => {
    const accounts = (await h.request('GET', api(tenant, '/channel-accounts?provider=email'))).body.data;
    expect(accounts).toMatchObject([{ name: 'Simulator', sandbox: true }]);
    expect(accounts[0].credentials).toContain('event_private_key');
    expect(JSON.stringify(accounts)).not.toMatch(/MIG|BEGIN/); // no key material, only names
    const schema = (await h.request('GET', '/openapi.json', { token: null })).body.components.schemas.ChannelAccount;
    expect(schema.properties.sandbox).toMatchObject({ type: 'boolean' });
    expect(schema.properties.sandbox.description).toMatch(/SANDBOX_TRANSPORT/);
    // Only a sandbox account takes the private key.
    const refused = await h.request('POST', api(tenant, '/channel-accounts'), {
      body: {
        provider: 'email',
        name: 'Real',
        identifier: 'real@inbound.example.com',
        credentials: { event_private_key: 'x' },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { field: 'credentials.event_private_key', message: 'only sandbox accounts take it' },
    ]);
  });
});

describe('sandbox transport off', () => {
  let h: Stack;
  beforeAll(async () => {
    h = await stack('false');
  });
  afterAll(async () => {
    await h.close();
  });

  it("a sandbox account's reply fails at once and never reaches a provider", async () => {
    const tenant = await h.createTenant('nosandbox');
    const before = fake.requests.length;
    const { conversation } = await simulate(h, tenant, 'whatsapp');
    const message = await reply(h, tenant, conversation.id, 'Nobody will get this');
    const row = await eventually(
      () => replyOf(h, tenant, conversation.id, message.id),
      (m) => m?.status === 'failed',
    );
    expect(row).toMatchObject({ status: 'failed', external_id: null, error: { code: 'sandbox_disabled' } });
    expect(fake.requests.length).toBe(before);
  });
});

describe('configuration', () => {
  it('is on by default only on the embedded defaults', () => {
    expect(loadConfig({}).SANDBOX_TRANSPORT).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).SANDBOX_TRANSPORT).toBe(false);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).SANDBOX_TRANSPORT).toBe(false);
    expect(loadConfig({ SANDBOX_TRANSPORT: 'false' }).SANDBOX_TRANSPORT).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', SANDBOX_TRANSPORT: 'true' }).SANDBOX_TRANSPORT).toBe(true);
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/x',
      JWT_SECRET: 'a-production-secret-0123456789',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    expect(loadConfig(production).SANDBOX_TRANSPORT).toBe(false);
  });

  it('is refused in production with one line naming the variable', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/x',
      JWT_SECRET: 'a-production-secret-0123456789',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    expect(() => loadConfig({ ...production, SANDBOX_TRANSPORT: 'true' })).toThrow(
      /^invalid configuration: SANDBOX_TRANSPORT cannot be on in production[^\n]*$/,
    );
    expect(() => loadConfig({ SANDBOX_TRANSPORT: 'maybe' })).toThrow(/SANDBOX_TRANSPORT must be true or false/);
  });
});
