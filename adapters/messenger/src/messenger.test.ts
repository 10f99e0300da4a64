import { readFileSync } from 'node:fs';
import { MalformedPayloadError, type ProviderError } from '@comms/adapter-kit';
import { type BadValueCase, fakeServer, rawJson, withValueSet } from '@comms/adapter-kit/testing';
import { hubSignature } from '@comms/adapter-meta-graph/testing';
import { describe, expect, it } from 'vitest';
import { messengerInbound, parseMessenger, sendMessenger } from './index.js';
import { messengerRead, messengerText, messengerWebhook } from './testing.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('messenger webhooks', () => {
  it('verifies X-Hub-Signature-256 with the app secret', () => {
    const body = fixture('messenger.json');
    expect(
      messengerInbound.verify(rawJson(body, { 'x-hub-signature-256': hubSignature(body, 's') }), { app_secret: 's' })
        .ok,
    ).toBe(true);
    expect(
      messengerInbound.verify(rawJson(body, { 'x-hub-signature-256': hubSignature(body, 'x') }), { app_secret: 's' })
        .ok,
    ).toBe(false);
    expect(messengerInbound.verify(rawJson(body), { app_secret: 's' }).ok).toBe(false);
  });

  it('parses text, attachments and postbacks, and skips echoes', () => {
    const req = rawJson(fixture('messenger.json'));
    expect(messengerInbound.accountIdentifiers(req)).toEqual(['1234567890123']);
    const events = parseMessenger(req) as Extract<ReturnType<typeof parseMessenger>[number], { kind: 'message' }>[];
    expect(events.map((e) => [e.external_id, e.type, e.text])).toEqual([
      ['m_1457764197618:41d102a3e1ae206a38', 'text', 'Is breakfast included?'],
      ['m_IMAGE', 'image', null],
      ['m_POSTBACK', 'text', 'Book now'],
    ]);
    expect(events[0]).toMatchObject({
      channel: 'messenger',
      sender_identifier: '6543210987654321',
      account_identifier: '1234567890123',
      extra: { quick_reply_payload: 'BREAKFAST' },
    });
    expect(events[1]!.media[0]!.url).toBe('https://scontent.example.com/room.jpg');
    expect(events[1]!.reply_to_external_id).toBe('m_OURS');
    expect(events[2]!.extra).toEqual({ postback_payload: 'BOOK_NOW' });
  });

  it('turns delivery and read receipts into watermark statuses', () => {
    const events = parseMessenger(rawJson(fixture('receipts.json')));
    expect(events).toMatchObject([
      { kind: 'status', status: 'delivered', external_id: null, recipient_identifier: '6543210987654321' },
      { kind: 'status', status: 'read', external_id: null, recipient_identifier: '6543210987654321' },
    ]);
    expect((events[0] as { watermark: Date }).watermark.getTime()).toBe(1458668856253);
  });

  it('parses Instagram messaging as the instagram channel', () => {
    const [m] = parseMessenger(rawJson(fixture('instagram.json')));
    expect(m).toMatchObject({
      channel: 'instagram',
      account_identifier: '17841400000000001',
      sender_identifier: '17841400000000099',
      text: 'Hi! Rooms for 2 in July?',
    });
  });

  it('malformed bodies are MalformedPayloadError', () => {
    for (const body of [
      '<xml/>',
      '{"object":"whatsapp_business_account","entry":[]}',
      '{"object":"page","entry":[{"messaging":[]}]}',
    ])
      expect(() => parseMessenger(rawJson(body)), body).toThrow(MalformedPayloadError);
  });
});

describe('bad values in a signed webhook (issue 21 point 2)', () => {
  const { cases } = JSON.parse(fixture('webhook-events-bad-values.json')) as { cases: BadValueCase[] };

  it.each(cases)('$case: refused naming $field, while the account is still named', (c) => {
    const base = JSON.parse(fixture(c.base));
    const req = rawJson(JSON.stringify(withValueSet(base, c.set, c.to)));
    // The account is read before the signature is checked; the values are judged after it.
    expect(messengerInbound.accountIdentifiers(req)).toEqual([base.entry[0].id]);
    const err = (() => {
      try {
        parseMessenger(req);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MalformedPayloadError);
    expect((err as MalformedPayloadError).issues.map((i) => i.field)).toContain(c.field);
    expect((err as MalformedPayloadError).message).toContain(c.field);
  });
});

describe('send', () => {
  const message = {
    message_id: 1,
    tenant: 'acme',
    to: '6543210987654321',
    from: '1234567890123',
    type: 'text' as const,
    text: 'Yes, breakfast is included',
    media_url: null,
    template: null,
    subject: null,
    in_reply_to: null,
    references: [],
    status_callback_url: null,
  };
  it('posts a RESPONSE to /me/messages with the page token and returns message_id', async () => {
    const fake = await fakeServer(() => ({
      status: 200,
      body: { recipient_id: '6543210987654321', message_id: 'm_OUT' },
    }));
    try {
      expect(await sendMessenger(message, { page_access_token: 'PAGE' }, { baseUrl: fake.url })).toEqual({
        provider_message_id: 'm_OUT',
      });
      expect(fake.requests[0]!.path).toBe('/me/messages');
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer PAGE');
      expect(JSON.parse(fake.requests[0]!.body)).toEqual({
        recipient: { id: '6543210987654321' },
        messaging_type: 'RESPONSE',
        message: { text: 'Yes, breakfast is included' },
      });
      await sendMessenger(
        { ...message, type: 'document', media_url: 'https://f.example.com/v.pdf' },
        { page_access_token: 'PAGE' },
        { baseUrl: fake.url },
      );
      expect(JSON.parse(fake.requests[1]!.body).message).toEqual({
        attachment: { type: 'file', payload: { url: 'https://f.example.com/v.pdf', is_reusable: false } },
      });
    } finally {
      await fake.close();
    }
  });
  it('outside the window (code 10) is permanent; 613 rate limit is transient', async () => {
    const replies = [
      {
        status: 400,
        body: {
          error: { message: '(#10) This message is sent outside of allowed window.', code: 10, error_subcode: 2018278 },
        },
      },
      {
        status: 400,
        body: { error: { message: '(#613) Calls to this api have exceeded the rate limit.', code: 613 } },
      },
    ];
    const fake = await fakeServer((_, n) => replies[n - 1]!);
    try {
      const a: ProviderError = await sendMessenger(message, { page_access_token: 'P' }, { baseUrl: fake.url }).catch(
        (e) => e,
      );
      const b: ProviderError = await sendMessenger(message, { page_access_token: 'P' }, { baseUrl: fake.url }).catch(
        (e) => e,
      );
      expect([a.code, a.transient, b.code, b.transient]).toEqual(['10', false, '613', true]);
    } finally {
      await fake.close();
    }
  });
});

describe('testing kit', () => {
  it("builds the documentation's Instagram message and Messenger read receipt", () => {
    const account = '17841400000000001';
    const message = messengerText({
      account,
      from: '17841400000000099',
      text: 'Hi! Rooms for 2 in July?',
      mid: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAx',
      timestamp: 1569262485349,
    });
    expect(messengerWebhook({ object: 'instagram', account, time: 1569262486134, messaging: [message] })).toEqual(
      JSON.parse(fixture('instagram.json')),
    );
    const read = messengerRead({
      account: '1234567890123',
      from: '6543210987654321',
      watermark: 1458668856253,
      timestamp: 1458668856464,
    });
    expect(read).toEqual(JSON.parse(fixture('receipts.json')).entry[0].messaging[1]);
  });
});
