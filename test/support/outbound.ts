/**
 * What the outbound files share: the provider stack (./provider-stack.ts) with a fake WhatsApp Cloud API answering
 * as documented, and a WhatsApp conversation to reply in. Call `useOutboundStack()` at the top of a test file.
 * WhatsApp's response: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (`messages[0].id`)
 */
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { expect } from 'vitest';
import { api } from './harness.js';
import { h, useProviderStack } from './provider-stack.js';
import { createAccount, type Stack } from './stack.js';

export { db, fake, h, messageRow } from './provider-stack.js';

export const APP_SECRET = 'wa-secret';
export const PHONE_ID = '106540352242922';

/** The fake's default answer: a successful send, with a provider id of its own for each request. */
export const waOk = (_: unknown, n: number) => ({
  status: 200,
  body: {
    messaging_product: 'whatsapp',
    contacts: [{ input: '5511999990000', wa_id: '5511999990000' }],
    messages: [{ id: `wamid.fake${n}` }],
  },
});

export function useOutboundStack(): void {
  useProviderStack({ responder: waOk, worker: { sweepAfterMs: 0 } });
}

/** A WhatsApp tenant with a conversation whose customer just wrote (the 24-hour window is open). */
export async function whatsappConversation(stack: Stack = h) {
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
