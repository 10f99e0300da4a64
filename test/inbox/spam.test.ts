// The tenant's spam rules (PUT /settings/spam) applied to inbound WhatsApp messages through the gateway, against the
// real PostgreSQL and Redis; agents can unmark a conversation.
// Payload shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { h, post, setup, useWhatsAppGateway } from '../support/whatsapp-gateway.js';

useWhatsAppGateway();

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
