// WhatsApp replies end to end: POST /messages → BullMQ → worker → a fake WhatsApp Cloud API on loopback; transient
// errors retried, permanent ones failed with the provider's code, nothing sent twice.
// The fake answers as WhatsApp documents: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { fake, h, messageRow, PHONE_ID, useOutboundStack, waOk, whatsappConversation } from '../support/outbound.js';
import { eventually } from '../support/wait.js';

useOutboundStack();

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
