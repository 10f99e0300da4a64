// Twilio SMS and WhatsApp through the gateway and back out through the worker, against the real PostgreSQL and
// Redis, with a fake Twilio API on loopback. Inbound shapes follow the fixtures' documentation pages
// (adapters/twilio/src/fixtures/README.md).
import { signedTwilioWebhook, twilioInboundParams, twilioStatusParams } from '@comms/adapter-twilio/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { fake, h, messageRow, PUBLIC_BASE, useRoundTripStack } from '../support/round-trip.js';
import { createAccount } from '../support/stack.js';
import { eventually } from '../support/wait.js';

useRoundTripStack();

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

  it('a payload naming an account no identifier could be (a NUL, or longer than any) is 400, not an outage', async () => {
    // Found by the gateway fuzzer: `To` = NUL made the account lookup fail in PostgreSQL, answered 503, which
    // Twilio retries for days.
    const tenant = await h.createTenant('twnul');
    await createAccount(h, tenant, {
      provider: 'sms',
      identifier: NUMBER,
      credentials: { account_sid: SID, auth_token: TOKEN },
    });
    for (const to of ['\u0000', `+1${'5'.repeat(400)}`]) {
      const res = await post(tenant, 'twilio', inbound('+447700900123', to, 'Hi'));
      expect(res.status, JSON.stringify(to).slice(0, 20)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const status = await post(
      tenant,
      'twilio/status',
      twilioStatusParams({ sid: `SM${'a'.repeat(32)}`, status: 'delivered', from: '\u0000', to: '+447700900123' }),
    );
    expect(status.status).toBe(400);
  });
});
