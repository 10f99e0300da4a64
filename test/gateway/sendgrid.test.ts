// SendGrid email (Inbound Parse in, the Event Webhook for its statuses) through the gateway and back out through the
// worker, against the real PostgreSQL and Redis, with a fake SendGrid API on loopback. Inbound shapes follow the
// fixtures' documentation pages (adapters/sendgrid/src/fixtures/README.md).
import {
  sendgridEvent,
  sendgridEventKeys,
  sendgridInboundForm,
  signedSendGridEvents,
} from '@comms/adapter-sendgrid/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { fake, h, messageRow, useRoundTripStack } from '../support/round-trip.js';
import { createAccount } from '../support/stack.js';
import { eventually } from '../support/wait.js';

useRoundTripStack();

describe('SendGrid', () => {
  const INBOUND = 'support@inbound.acme.example';
  const { privateKey, publicKey: PUBLIC_KEY } = sendgridEventKeys();
  const email = (tenant: string, form: FormData, token = 'inbound-secret') =>
    fetch(`${h.url}/webhooks/${tenant}/sendgrid/inbound?token=${token}`, { method: 'POST', body: form });
  const mail = (messageId: string, text: string, answers?: string) =>
    sendgridInboundForm({
      to: INBOUND,
      from: 'ana@example.com',
      name: 'Ana Lima',
      subject: 'Trip enquiry',
      text,
      messageId,
      ...(answers ? { inReplyTo: answers, references: [answers] } : {}),
    });

  it('emails in, replies threaded out, replies joining their thread, events signed with ECDSA', async () => {
    const tenant = await h.createTenant('sg');
    await createAccount(h, tenant, {
      provider: 'email',
      identifier: INBOUND,
      credentials: {
        api_key: 'SG.key',
        from_email: 'bookings@acme.example',
        inbound_token: 'inbound-secret',
        event_public_key: PUBLIC_KEY,
      },
    });
    expect((await email(tenant, mail('first@mail.example.com', 'Rooms in Lisbon?'), 'wrong')).status).toBe(401);
    expect((await email(tenant, mail('first@mail.example.com', 'Rooms in Lisbon?'))).status).toBe(200);
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data[0];
    expect(conv).toMatchObject({
      channel: 'email',
      contact_identifier: 'ana@example.com',
      contact_name: 'Ana Lima',
      last_message: 'Rooms in Lisbon?',
    });

    const reply = (
      await h.request('POST', api(tenant, '/messages'), {
        body: { conversation_id: conv.id, content: 'Yes, we have rooms.' },
      })
    ).body;
    const sent = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'sent',
    );
    const call = fake.requests.find(
      (r) => r.path === '/v3/mail/send' && r.json.content[0].value === 'Yes, we have rooms.',
    )!;
    expect(call.json).toMatchObject({
      from: { email: 'bookings@acme.example' },
      subject: 'Re: Trip enquiry',
      headers: { 'In-Reply-To': '<first@mail.example.com>', References: '<first@mail.example.com>' },
      custom_args: { tenant, message_id: String(reply.id) },
    });

    // The agent archives; the customer's reply (In-Reply-To our thread) reopens and joins it.
    await h.request('DELETE', api(tenant, `/conversations/${conv.id}`));
    await email(tenant, mail('second@mail.example.com', 'Great, 2 adults.', 'first@mail.example.com'));
    const after = (await h.request('GET', api(tenant, `/conversations/${conv.id}`))).body;
    expect(after).toMatchObject({ status: 'open', message_count: 3, last_message: 'Great, 2 adults.' });
    expect(
      (await h.request('GET', api(tenant, '/conversations?status=new,open,replied,qualified,archived'))).body.data,
    ).toHaveLength(1);

    const events = signedSendGridEvents(
      [
        sendgridEvent({
          event: 'delivered',
          email: 'ana@example.com',
          sgMessageId: `${sent.external_id}.filter0001.1.2.0`,
        }),
      ],
      privateKey,
    );
    const url = `${h.url}/webhooks/${tenant}/sendgrid/events`;
    const tampered = { method: 'POST', headers: events.headers, body: `${events.body} ` };
    expect((await fetch(url, tampered)).status).toBe(401);
    expect((await fetch(url, { method: 'POST', ...events })).status).toBe(200);
    expect(
      (
        await eventually(
          () => messageRow(tenant, reply.id),
          (r) => r.status === 'delivered',
        )
      ).status,
    ).toBe('delivered');
  });
});
