import { readFileSync } from 'node:fs';
import { MalformedPayloadError, ProviderError } from '@comms/adapter-kit';
import { type BadValueCase, fakeServer, rawJson, withValueSet } from '@comms/adapter-kit/testing';
import { hubSignature } from '@comms/adapter-meta-graph/testing';
import { describe, expect, it } from 'vitest';
import { fetchWhatsAppMedia, parseWhatsApp, sendWhatsApp, verifyWhatsApp, whatsappInbound } from './index.js';
import { whatsappStatus, whatsappText, whatsappWebhook } from './testing.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const SECRET = 'app-secret';

describe('verify', () => {
  const body = fixture('text.json');
  it('accepts the HMAC-SHA256 of the raw body', () => {
    expect(
      verifyWhatsApp(rawJson(body, { 'x-hub-signature-256': hubSignature(body, SECRET) }), { app_secret: SECRET }),
    ).toEqual({ ok: true });
  });
  it('refuses a wrong secret, a missing header, a malformed header and other bytes', () => {
    expect(
      verifyWhatsApp(rawJson(body, { 'x-hub-signature-256': hubSignature(body, 'other') }), { app_secret: SECRET }).ok,
    ).toBe(false);
    expect(verifyWhatsApp(rawJson(body), { app_secret: SECRET }).ok).toBe(false);
    expect(verifyWhatsApp(rawJson(body, { 'x-hub-signature-256': 'sha1=abc' }), { app_secret: SECRET }).ok).toBe(false);
    expect(
      verifyWhatsApp(rawJson(`${body} `, { 'x-hub-signature-256': hubSignature(body, SECRET) }), { app_secret: SECRET })
        .ok,
    ).toBe(false);
    expect(verifyWhatsApp(rawJson(body, { 'x-hub-signature-256': hubSignature(body, SECRET) }), {}).ok).toBe(false);
  });
});

describe('parse', () => {
  it('a text message with the contact name and provider timestamp', () => {
    const req = rawJson(fixture('text.json'));
    expect(whatsappInbound.accountIdentifiers(req)).toEqual(['106540352242922']);
    const [m] = parseWhatsApp(req);
    expect(m).toMatchObject({
      kind: 'message',
      channel: 'whatsapp',
      account_identifier: '106540352242922',
      external_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      sender_identifier: '16505551234',
      sender_name: 'Sheena Nelson',
      type: 'text',
      text: 'Does it come in another color?',
    });
    expect((m as { timestamp: Date }).timestamp.toISOString()).toBe('2025-06-08T20:59:43.000Z');
  });

  it('every media type and a location, in order, with captions, filenames and reply context', () => {
    const events = parseWhatsApp(rawJson(fixture('media-and-location.json')));
    expect(events.map((e) => (e.kind === 'message' ? [e.external_id, e.type] : null))).toEqual([
      ['wamid.IMAGE', 'image'],
      ['wamid.DOC', 'document'],
      ['wamid.AUDIO', 'audio'],
      ['wamid.VIDEO', 'video'],
      ['wamid.LOCATION', 'location'],
    ]);
    const [image, doc, , , loc] = events as Extract<(typeof events)[number], { kind: 'message' }>[];
    expect(image!.text).toBe('This is the hotel view');
    expect(image!.media[0]).toMatchObject({
      id: '1003383421387256',
      mime_type: 'image/jpeg',
      caption: 'This is the hotel view',
    });
    expect(doc!.media[0]).toMatchObject({ filename: 'passport.pdf', mime_type: 'application/pdf' });
    expect(loc!.location).toEqual({
      latitude: 37.483307,
      longitude: 122.148981,
      name: 'Main Street Beach',
      address: '1 Hacker Way, Menlo Park, CA 94025',
    });
    expect(loc!.reply_to_external_id).toBe('wamid.OURS');
  });

  it('button and list replies become text with their ids kept', () => {
    const events = parseWhatsApp(rawJson(fixture('interactive.json'))) as Extract<
      ReturnType<typeof parseWhatsApp>[number],
      { kind: 'message' }
    >[];
    expect(events.map((e) => e.text)).toEqual(['Change', 'Priority Mail Express', 'Unsubscribe from Promos']);
    expect(events[0]!.extra).toEqual({ interactive: { type: 'button_reply', id: 'change-button' } });
    expect(events[1]!.extra).toEqual({ interactive: { type: 'list_reply', id: 'priority_express' } });
    expect(events[2]!.reply_to_external_id).toBe('wamid.TEMPLATE');
  });

  it('statuses, including a failure with its error', () => {
    const events = parseWhatsApp(rawJson(fixture('statuses.json')));
    expect(events.map((e) => (e.kind === 'status' ? [e.external_id, e.status] : null))).toEqual([
      ['wamid.SENT', 'sent'],
      ['wamid.SENT', 'delivered'],
      ['wamid.SENT', 'read'],
      ['wamid.FAILED', 'failed'],
    ]);
    expect(events[3]).toMatchObject({
      recipient_identifier: '16505551234',
      error: { code: '131026', message: 'Message undeliverable' },
    });
  });

  it('several entries and changes: every message, not only the first', () => {
    const one = JSON.parse(fixture('text.json'));
    const two = JSON.parse(fixture('media-and-location.json'));
    const batch = {
      object: 'whatsapp_business_account',
      entry: [...one.entry, { id: 'x', changes: [...two.entry[0].changes, ...one.entry[0].changes] }],
    };
    expect(parseWhatsApp(rawJson(JSON.stringify(batch)))).toHaveLength(1 + 5 + 1);
  });

  it('malformed bodies are MalformedPayloadError', () => {
    for (const body of [
      'not json',
      '{"object":"page","entry":[]}',
      '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{}}]}]}',
    ])
      expect(() => parseWhatsApp(rawJson(body)), body).toThrow(MalformedPayloadError);
  });
});

describe('parse: bad values in a signed webhook (issue 21 point 2)', () => {
  const { cases } = JSON.parse(fixture('components-bad-values.json')) as { cases: BadValueCase[] };

  it.each(cases)('$case: refused naming $field, while the account is still named', (c) => {
    const req = rawJson(JSON.stringify(withValueSet(JSON.parse(fixture(c.base)), c.set, c.to)));
    // The account is read before the signature is checked; the values are judged after it, so a signed webhook
    // with a bad value can be kept as a rejected receipt.
    expect(whatsappInbound.accountIdentifiers(req)).toEqual(['106540352242922']);
    const err = (() => {
      try {
        parseWhatsApp(req);
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
    message_id: 7,
    tenant: 'acme',
    to: '16505551234',
    from: '106540352242922',
    type: 'text' as const,
    text: 'Your room is booked',
    media_url: null,
    template: null,
    subject: null,
    in_reply_to: null,
    references: [],
    status_callback_url: null,
  };

  it('posts the documented body with the bearer token and returns messages[0].id', async () => {
    const fake = await fakeServer(() => ({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: '16505551234', wa_id: '16505551234' }],
        messages: [{ id: 'wamid.OUT1' }],
      },
    }));
    try {
      const out = await sendWhatsApp(message, { access_token: 'EAAG' }, { baseUrl: fake.url });
      expect(out).toEqual({ provider_message_id: 'wamid.OUT1' });
      expect(fake.requests[0]!.method).toBe('POST');
      expect(fake.requests[0]!.path).toBe('/106540352242922/messages');
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer EAAG');
      expect(JSON.parse(fake.requests[0]!.body)).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '16505551234',
        type: 'text',
        text: { body: 'Your room is booked', preview_url: false },
      });
      await sendWhatsApp(
        { ...message, type: 'image', media_url: 'https://files.example.com/a.jpg', text: 'view' },
        { access_token: 'EAAG' },
        { baseUrl: fake.url },
      );
      expect(JSON.parse(fake.requests[1]!.body)).toMatchObject({
        type: 'image',
        image: { link: 'https://files.example.com/a.jpg', caption: 'view' },
      });
      await sendWhatsApp(
        { ...message, template: { name: 'booking_followup', language: 'pt_BR', components: [] } },
        { access_token: 'EAAG' },
        { baseUrl: fake.url },
      );
      expect(JSON.parse(fake.requests[2]!.body)).toMatchObject({
        type: 'template',
        template: { name: 'booking_followup', language: { code: 'pt_BR' }, components: [] },
      });
    } finally {
      await fake.close();
    }
  });

  it('classifies errors: 5xx and 429 transient, a 400 with Meta code permanent', async () => {
    const replies = [
      { status: 500, body: { error: { message: 'Unknown error', code: 1 } } },
      {
        status: 429,
        body: { error: { message: '(#130429) Rate limit hit', code: 130429 } },
        headers: { 'retry-after': '2' },
      },
      {
        status: 400,
        body: { error: { message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047 } },
      },
    ];
    const fake = await fakeServer((_, n) => replies[n - 1]!);
    try {
      const errors: ProviderError[] = [];
      for (let i = 0; i < 3; i++)
        errors.push(
          await sendWhatsApp(message, { access_token: 'EAAG' }, { baseUrl: fake.url }).then(
            () => {
              throw new Error('sent');
            },
            (e) => e,
          ),
        );
      expect(errors.map((e) => [e.code, e.transient])).toEqual([
        ['1', true],
        ['130429', true],
        ['131047', false],
      ]);
      expect(errors[1]!.retryAfterMs).toBe(2000);
      expect(errors[2]!.message).toContain('Re-engagement');
    } finally {
      await fake.close();
    }
  });

  it('a refused connection is a transient network error', async () => {
    const err = await sendWhatsApp(message, { access_token: 'x' }, { baseUrl: 'http://127.0.0.1:1' }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect([err.code, err.transient]).toEqual(['network', true]);
  });
});

describe('media download', () => {
  const read = async (body: AsyncIterable<Uint8Array>) => {
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    return Buffer.concat(chunks).toString();
  };

  it('the two Graph steps with the token; a redirect off the Graph origin is followed without it', async () => {
    // Where the media URL redirects (a CDN of its own): it must never see the account's token.
    const cdn = await fakeServer(() => ({ status: 200, body: 'the bytes', headers: { 'content-type': 'image/jpeg' } }));
    const graph = await fakeServer((req) =>
      req.path === '/1003383421387256'
        ? { status: 200, body: { url: `${graphUrl}/media/1`, mime_type: 'image/jpeg', file_size: 11 } }
        : req.path === '/media/1'
          ? { status: 302, headers: { location: `${graphUrl}/media/2` } }
          : { status: 307, headers: { location: `${cdn.url}/file?sig=x` } },
    );
    const graphUrl = graph.url;
    try {
      const got = await fetchWhatsAppMedia(
        { provider_id: '1003383421387256', provider_url: null },
        { access_token: 'EAAG' },
        { baseUrl: graph.url },
      );
      expect(await read(got.body)).toBe('"the bytes"');
      expect(got.mime_type).toBe('image/jpeg');
      expect(graph.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
        ['/1003383421387256', 'Bearer EAAG'],
        ['/media/1', 'Bearer EAAG'],
        ['/media/2', 'Bearer EAAG'],
      ]);
      expect(cdn.requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/file?sig=x', undefined]]);
    } finally {
      await graph.close();
      await cdn.close();
    }
  });

  it("classifies the media URL's answers: 404 permanent, 503 transient, a redirect loop a network error", async () => {
    const graph = await fakeServer((req) =>
      req.path.startsWith('/m')
        ? { status: 200, body: { url: `${graphUrl}/file${req.path.slice(2)}` } }
        : req.path === '/file404'
          ? { status: 404 }
          : req.path === '/file503'
            ? { status: 503 }
            : { status: 302, headers: { location: req.path } },
    );
    const graphUrl = graph.url;
    try {
      const outcomes = [];
      for (const id of ['m404', 'm503', 'mloop'])
        outcomes.push(
          await fetchWhatsAppMedia(
            { provider_id: id, provider_url: null },
            { access_token: 'EAAG' },
            { baseUrl: graph.url },
          ).then(
            () => 'downloaded',
            (e: ProviderError) => [e.code, e.transient],
          ),
        );
      expect(outcomes).toEqual([
        ['http_404', false],
        ['http_503', true],
        ['network', true],
      ]);
    } finally {
      await graph.close();
    }
  });
});

describe('testing kit', () => {
  it("builds the documentation's text message and status update", () => {
    const text = whatsappText({
      from: '16505551234',
      text: 'Does it come in another color?',
      id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      name: 'Sheena Nelson',
      timestamp: 1749416383,
    });
    expect(whatsappWebhook([text])).toEqual(JSON.parse(fixture('text.json')));
    const statuses = JSON.parse(fixture('statuses.json'));
    const { value } = statuses.entry[0].changes[0];
    value.statuses = [value.statuses[1]];
    const delivered = whatsappStatus({
      id: 'wamid.SENT',
      status: 'delivered',
      recipient: '16505551234',
      timestamp: 1750263774,
    });
    expect(whatsappWebhook([delivered])).toEqual(statuses);
  });
});
