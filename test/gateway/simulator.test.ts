// `npm run simulate`'s webhooks (tools/src/webhooks.ts) for every provider, through the gateway: each is accepted
// with the account it describes and makes a conversation with its contact.
import { buildSimulatedWebhook, SIMULATED_PROVIDERS } from '@comms/tools/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';

// Twilio signs the public URL it calls: the webhooks are built for it, and posted to the stack on loopback.
const PUBLIC_BASE = 'https://comms.example.com';
let h: Stack;
beforeAll(async () => {
  h = await startStack({ env: { PUBLIC_BASE_URL: PUBLIC_BASE } });
});
afterAll(async () => {
  await h.close();
});

describe('simulated webhooks', () => {
  it.each(SIMULATED_PROVIDERS)('%s: accepted and made a conversation', async (provider) => {
    const tenant = await h.createTenant('sim');
    const webhook = buildSimulatedWebhook(provider, {
      baseUrl: PUBLIC_BASE,
      tenant,
      name: 'Simulated Customer',
      text: 'Hello from the simulator',
      secret: 'simulator-secret',
    });
    await createAccount(h, tenant, { ...webhook.account, provider });
    const res = await fetch(webhook.url.replace(PUBLIC_BASE, h.url), {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    });
    expect(res.status, await res.text()).toBe(200);
    const convs = (await h.request('GET', api(tenant, '/conversations'))).body.data;
    expect(convs).toMatchObject([
      { channel: provider, contact_identifier: webhook.contact, last_message: 'Hello from the simulator' },
    ]);
  });
});
