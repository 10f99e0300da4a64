import { readFileSync } from 'node:fs';
import { MalformedPayloadError, type ProviderError, type RawRequest } from '@comms/adapter-kit';
import { type BadValueCase, caseValue, fakeServer, withValueSet } from '@comms/adapter-kit/testing';
import { describe, expect, it } from 'vitest';
import { parseSendGridEvents, parseSendGridInbound, sendgridEvents, sendgridInbound, sendSendGrid } from './index.js';
import { sendgridEvent, sendgridEventKeys, sendgridInboundForm, sendgridSignatureHeaders } from './testing.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const { privateKey, publicKey: PUBLIC_KEY } = sendgridEventKeys();

function signed(
  body: string,
  headers: Record<string, string> = {},
  url = 'https://comms.example.com/webhooks/acme/sendgrid/events',
): RawRequest {
  return {
    url,
    headers: { ...sendgridSignatureHeaders(body, privateKey), ...headers },
    body: new TextEncoder().encode(body),
  };
}

async function multipart(fields: Record<string, string | Blob>, token = 'inbound-token'): Promise<RawRequest> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = new Response(form);
  return {
    url: `https://comms.example.com/webhooks/acme/sendgrid/inbound?token=${token}`,
    headers: { 'content-type': res.headers.get('content-type')! },
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

const PARSED_MODE: Record<string, string | Blob> = {
  headers:
    'Received: by mx0047p1mdw1.sendgrid.net\nMessage-ID: <first-1@mail.example.com>\nDate: Tue, 24 Nov 2026 09:00:00 +0000\nFrom: "Ana Lima" <ana@example.com>\nTo: support@inbound.acme.example\nSubject: Trip enquiry',
  dkim: '{@example.com : pass}',
  to: 'support@inbound.acme.example',
  from: '"Ana Lima" <Ana@Example.com>',
  cc: '',
  text: 'Hello, rooms in Lisbon?',
  html: '<p>Hello, rooms in <b>Lisbon</b>?</p>',
  sender_ip: '209.85.223.173',
  envelope: JSON.stringify({ to: ['support@inbound.acme.example'], from: 'ana@example.com' }),
  subject: 'Trip enquiry',
  charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
  SPF: 'pass',
  attachments: '1',
  'attachment-info': JSON.stringify({
    attachment1: { filename: 'passport.jpg', name: 'passport.jpg', type: 'image/jpeg' },
  }),
  attachment1: new File([new Uint8Array(1234)], 'passport.jpg', { type: 'image/jpeg' }),
};
const parsedMode = () => multipart(PARSED_MODE);

async function refusal(parse: () => unknown): Promise<MalformedPayloadError> {
  try {
    await parse();
  } catch (err) {
    if (err instanceof MalformedPayloadError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('Inbound Parse', () => {
  it('checks the inbound token, and the ECDSA signature when SendGrid sends one', async () => {
    const creds = { inbound_token: 'inbound-token', event_public_key: PUBLIC_KEY };
    expect(sendgridInbound.verify(await parsedMode(), creds)).toEqual({ ok: true });
    expect(sendgridInbound.verify(await multipart({ text: 'x' }, 'wrong'), creds).ok).toBe(false);
    const body = 'x';
    const withSig = signed(body, {}, 'https://comms.example.com/webhooks/acme/sendgrid/inbound?token=inbound-token');
    expect(sendgridInbound.verify(withSig, creds).ok).toBe(true);
    expect(sendgridInbound.verify({ ...withSig, body: new TextEncoder().encode('y') }, creds).ok).toBe(false);
  });

  it('parses the default mode: sender, recipients, subject, text, headers and attachments', async () => {
    const req = await parsedMode();
    expect(await sendgridInbound.accountIdentifiers(req)).toEqual(['support@inbound.acme.example']);
    const [m] = await parseSendGridInbound(req);
    expect(m).toMatchObject({
      channel: 'email',
      account_identifier: 'support@inbound.acme.example',
      external_id: 'first-1@mail.example.com',
      sender_identifier: 'ana@example.com',
      sender_name: 'Ana Lima',
      type: 'text',
      text: 'Hello, rooms in Lisbon?',
      email: {
        subject: 'Trip enquiry',
        message_id: 'first-1@mail.example.com',
        in_reply_to: null,
        references: [],
        to: ['support@inbound.acme.example'],
      },
    });
    expect(m!.media).toEqual([
      {
        id: null,
        url: null,
        mime_type: 'image/jpeg',
        filename: 'passport.jpg',
        size: 1234,
        caption: null,
        // The attachment's bytes, as posted: stored without a fetch.
        content: expect.any(Uint8Array),
      },
    ]);
    expect(m!.media[0]!.content!.length).toBe(1234);
    expect(m!.timestamp.toISOString()).toBe('2026-11-24T09:00:00.000Z');
  });

  it('parses the raw MIME mode, with the thread headers in one normal form', async () => {
    const req = await multipart({
      email: fixture('reply.eml'),
      envelope: JSON.stringify({ to: ['support@inbound.acme.example'], from: 'traveller@example.com' }),
    });
    const [m] = await parseSendGridInbound(req);
    expect(m).toMatchObject({
      external_id: 'reply-2@mail.example.com',
      sender_identifier: 'traveller@example.com',
      sender_name: 'Ana Lima',
      text: 'Thanks! Two adults, 12-19 May.',
      reply_to_external_id: 'first-1@mail.example.com',
      email: {
        subject: 'Re: Trip enquiry',
        in_reply_to: 'first-1@mail.example.com',
        references: ['first-1@mail.example.com', 'agent-ack@inbound.acme.example'],
      },
    });
    expect(m!.media[0]).toMatchObject({ filename: 'itinerary.pdf', mime_type: 'application/pdf' });
  });

  it('without a Message-ID, the same body gets the same id (redeliveries dedupe)', async () => {
    const req = await multipart({
      from: 'a@example.com',
      to: 'support@inbound.acme.example',
      text: 'no id',
      headers: 'Subject: x',
    });
    const [a] = await parseSendGridInbound(req);
    const [b] = await parseSendGridInbound(req);
    expect(a!.external_id).toMatch(/^sha256:/);
    expect(a!.external_id).toBe(b!.external_id);
  });

  it('malformed bodies are MalformedPayloadError', async () => {
    await expect(
      parseSendGridInbound({
        url: 'https://x/?token=t',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(),
      }),
    ).rejects.toThrow(MalformedPayloadError);
    await expect(parseSendGridInbound(await multipart({ text: 'no sender' }))).rejects.toThrow(MalformedPayloadError);
  });
});

describe('Inbound Parse: bad values in a signed post (issue 21 point 2)', () => {
  const { cases } = JSON.parse(fixture('inbound-parse-bad-values.json')) as { cases: BadValueCase[] };

  it.each(cases)('$case: refused naming $field, while the account is still named', async (c) => {
    const req = await multipart({ ...PARSED_MODE, [c.set]: String(caseValue(c.to)) });
    // The account is read before the token is checked; the values are judged after it.
    expect(await sendgridInbound.accountIdentifiers(req)).toEqual(['support@inbound.acme.example']);
    const err = await refusal(() => parseSendGridInbound(req));
    expect(err.issues.map((i) => i.field)).toContain(c.field);
    expect(err.message).toContain(c.field);
  });

  it("a Date header off by centuries dates the email when it is received: the sender's clock, not SendGrid's", async () => {
    const headers = String(PARSED_MODE.headers).replace(/^Date: .*$/m, 'Date: Tue, 24 Nov 2999 09:00:00 +0000');
    const before = Date.now();
    const [m] = await parseSendGridInbound(await multipart({ ...PARSED_MODE, headers }));
    expect(m!.timestamp.getTime()).toBeGreaterThanOrEqual(before);
    expect(m!.timestamp.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('Event Webhook: bad values in a signed batch (issue 21 point 2)', () => {
  const { cases } = JSON.parse(fixture('event-bad-values.json')) as { cases: BadValueCase[] };

  it.each(cases)('$case: refused naming $field', async (c) => {
    const body = JSON.stringify(withValueSet(JSON.parse(fixture(c.base)), c.set, c.to));
    const err = await refusal(() => parseSendGridEvents(signed(body)));
    expect(err.issues.map((i) => i.field)).toContain(c.field);
    expect(err.message).toContain(c.field);
  });
});

describe('Event Webhook', () => {
  it('verifies the ECDSA signature of timestamp + body', () => {
    const body = fixture('events.json');
    expect(sendgridEvents.verify(signed(body), { event_public_key: PUBLIC_KEY })).toEqual({ ok: true });
    const other = sendgridEventKeys().publicKey;
    expect(sendgridEvents.verify(signed(body), { event_public_key: other }).ok).toBe(false);
    expect(
      sendgridEvents.verify(
        { ...signed(body), body: new TextEncoder().encode(`${body} `) },
        { event_public_key: PUBLIC_KEY },
      ).ok,
    ).toBe(false);
    expect(
      sendgridEvents.verify(
        { url: 'https://x', headers: {}, body: new TextEncoder().encode(body) },
        { event_public_key: PUBLIC_KEY },
      ).ok,
    ).toBe(false);
  });

  it('maps delivered, open, bounce and dropped; processed and deferred change nothing', () => {
    const events = parseSendGridEvents(signed(fixture('events.json')));
    expect(events.map((e) => [e.external_id, e.status])).toEqual([
      ['14c5d75ce93', 'delivered'],
      ['14c5d75ce93', 'read'],
      ['BOUNCED00000', 'failed'],
      ['DROPPED00000', 'failed'],
    ]);
    expect(events[2]!.error).toEqual({ code: 'bounce', message: '500 unknown recipient' });
    expect(() => parseSendGridEvents(signed('{"event":"delivered"}'))).toThrow(MalformedPayloadError);
  });
});

describe('send (@sendgrid/mail against a fake SendGrid)', () => {
  const message = {
    message_id: 9,
    tenant: 'acme',
    to: 'ana@example.com',
    from: 'support@inbound.acme.example',
    type: 'text' as const,
    text: 'We have rooms.',
    media_url: null,
    template: null,
    subject: 'Re: Trip enquiry',
    in_reply_to: 'first-1@mail.example.com',
    references: ['first-1@mail.example.com'],
    status_callback_url: null,
  };
  it('posts /v3/mail/send with the key, thread headers and custom_args; returns X-Message-Id', async () => {
    const fake = await fakeServer(() => ({ status: 202, headers: { 'x-message-id': 'SGMSGID123' } }));
    try {
      expect(
        await sendSendGrid(message, { api_key: 'SG.key', from_email: 'bookings@acme.example' }, { baseUrl: fake.url }),
      ).toEqual({ provider_message_id: 'SGMSGID123' });
      const req = fake.requests[0]!;
      expect([req.method, req.path, req.headers.authorization]).toEqual(['POST', '/v3/mail/send', 'Bearer SG.key']);
      const body = JSON.parse(req.body);
      expect(body.from).toEqual({ email: 'bookings@acme.example' });
      expect(body.subject).toBe('Re: Trip enquiry');
      expect(body.personalizations[0].to).toEqual([{ email: 'ana@example.com' }]);
      expect(body.headers).toEqual({
        'In-Reply-To': '<first-1@mail.example.com>',
        References: '<first-1@mail.example.com>',
      });
      expect(body.custom_args).toEqual({ tenant: 'acme', message_id: '9' });
      expect(body.content[0]).toEqual({ type: 'text/plain', value: 'We have rooms.' });
    } finally {
      await fake.close();
    }
  });
  it('classifies 400 as permanent with SendGrid’s message, 429 and 500 as transient', async () => {
    const replies = [
      {
        status: 400,
        body: { errors: [{ message: 'The from address does not match a verified Sender Identity.', field: 'from' }] },
      },
      { status: 429, body: { errors: [{ message: 'too many requests' }] } },
      { status: 500, body: { errors: [{ message: 'internal' }] } },
    ];
    const fake = await fakeServer((_, n) => replies[n - 1]!);
    try {
      const errs: ProviderError[] = [];
      for (let i = 0; i < 3; i++)
        errs.push(await sendSendGrid(message, { api_key: 'SG.k' }, { baseUrl: fake.url }).catch((e) => e));
      expect(errs.map((e) => [e.code, e.transient])).toEqual([
        ['400', false],
        ['429', true],
        ['500', true],
      ]);
      expect(errs[0]!.message).toContain('verified Sender Identity');
    } finally {
      await fake.close();
    }
  });
});

describe('testing kit', () => {
  it('builds an Inbound Parse email the adapter reads back, thread headers included', async () => {
    const form = sendgridInboundForm({
      to: 'support@inbound.acme.example',
      from: 'ana@example.com',
      text: 'Two adults, please.',
      messageId: 'kit-2@mail.example.com',
      inReplyTo: 'first-1@mail.example.com',
      references: ['first-1@mail.example.com'],
      date: new Date('2026-11-24T09:00:00Z'),
    });
    const [m] = await parseSendGridInbound(await multipart(Object.fromEntries(form)));
    expect(m).toMatchObject({
      account_identifier: 'support@inbound.acme.example',
      external_id: 'kit-2@mail.example.com',
      sender_identifier: 'ana@example.com',
      sender_name: 'Ana Lima',
      text: 'Two adults, please.',
      reply_to_external_id: 'first-1@mail.example.com',
      email: { subject: 'Trip enquiry', references: ['first-1@mail.example.com'] },
    });
    expect(m!.timestamp.toISOString()).toBe('2026-11-24T09:00:00.000Z');
  });

  it("builds the documentation's event objects", () => {
    const open = sendgridEvent({
      event: 'open',
      email: 'traveller@example.com',
      timestamp: 1513299572,
      sgEventId: 'sg_event_id_open',
      sgMessageId: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
      extra: { sg_machine_open: false, useragent: 'Mozilla/4.0', ip: '255.255.255.255' },
    });
    expect(open).toEqual(JSON.parse(fixture('events.json'))[3]);
  });
});
