// `npm run simulate -- ses`'s notifications (tools/src/ses-webhooks.ts) through the gateway: accepted when the
// simulator's certificate is trusted (the embedded defaults' SNS_TRUST_SIMULATOR), refused otherwise, and never
// trusted in production.
import { loadConfig } from '@comms/core/platform';
import {
  simulatedSesAccount,
  simulatedSesEvent,
  simulatedSesMail,
  withSimulatorCertificate,
} from '@comms/tools/ses-webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';

let trusting: Stack;
let strict: Stack;
beforeAll(async () => {
  [trusting, strict] = await Promise.all([startStack({ env: { SNS_TRUST_SIMULATOR: 'true' } }), startStack()]);
});
afterAll(async () => {
  await Promise.all([trusting.close(), strict.close()]);
});

const post = (h: Stack, tenant: string, w: { body: string; headers: Record<string, string> }) =>
  fetch(`${h.url}/webhooks/${tenant}/ses`, { method: 'POST', ...w });

describe('simulated SES notifications', () => {
  it('are accepted where the simulator is trusted, and make an email conversation', async () => {
    const tenant = await trusting.createTenant('sim-ses');
    await createAccount(trusting, tenant, simulatedSesAccount());
    const res = await withSimulatorCertificate((signing) =>
      post(trusting, tenant, simulatedSesMail(signing, { from: 'traveller@example.com', name: 'T', text: 'Lisbon?' })),
    );
    expect(res.status, await res.text()).toBe(200);
    const convs = (await trusting.request('GET', api(tenant, '/conversations'))).body.data;
    expect(convs).toMatchObject([
      { channel: 'email', contact_identifier: 'traveller@example.com', last_message: 'Lisbon?' },
    ]);
    const event = await withSimulatorCertificate((signing) =>
      post(trusting, tenant, simulatedSesEvent(signing, 'Delivery', 'no-such-reply', 'traveller@example.com')),
    );
    expect(event.status).toBe(200);
  });

  it('are refused (401) where it is not, and production refuses to trust it', async () => {
    const tenant = await strict.createTenant('sim-ses');
    await createAccount(strict, tenant, simulatedSesAccount());
    const res = await withSimulatorCertificate((signing) =>
      post(strict, tenant, simulatedSesMail(signing, { from: 'traveller@example.com', name: 'T', text: 'Lisbon?' })),
    );
    expect(res.status).toBe(401);
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y', JWT_SECRET: 'x'.repeat(32) };
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(() => loadConfig({ ...production, ENCRYPTION_KEY: key, SNS_TRUST_SIMULATOR: 'true' })).toThrow(
      /SNS_TRUST_SIMULATOR/,
    );
    expect(() =>
      loadConfig({ ...production, ENCRYPTION_KEY: key, SNS_CERT_CA: '-----BEGIN CERTIFICATE-----' }),
    ).toThrow(/SNS_CERT_CA/);
    expect(loadConfig({ ...production, ENCRYPTION_KEY: key }).SNS_TRUST_SIMULATOR).toBe(false);
  });
});
