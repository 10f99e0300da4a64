import { readFileSync } from 'node:fs';
import { MalformedPayloadError, type ProviderError, type RawRequest } from '@comms/adapter-kit';
import { type BadValueCase, caseValue, fakeServer } from '@comms/adapter-kit/testing';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import {
  parseTwilioInbound,
  parseTwilioStatus,
  sendTwilioSms,
  sendTwilioWhatsApp,
  twilioInbound,
  twilioStatus,
} from './index.js';
import { twilioInboundParams, twilioSignature, twilioStatusParams } from './testing.js';

const URL_CALLED = 'https://comms.example.com/webhooks/acme/twilio';
const TOKEN = 'twilio-auth-token';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function form(body: string, signed: string | null = TOKEN, url = URL_CALLED): RawRequest {
  const params = Object.fromEntries(new URLSearchParams(body));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signed) headers['x-twilio-signature'] = twilioSignature(signed, url, params);
  return { url: URL_CALLED, headers, body: new TextEncoder().encode(body) };
}

describe('verify', () => {
  it("signs in the testing kit as Twilio's documented example and the twilio library do", () => {
    // https://www.twilio.com/docs/usage/webhooks/webhooks-security (the example request and its signature)
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    const sms = Object.fromEntries(new URLSearchParams(fixture('sms.txt')));
    expect(twilioSignature(TOKEN, URL_CALLED, sms)).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_CALLED, sms));
  });
  it("accepts Twilio's signature over the called URL and the params", () => {
    expect(twilioInbound.verify(form(fixture('sms.txt')), { auth_token: TOKEN })).toEqual({ ok: true });
  });
  it('refuses another token, no header, a tampered body and a signature for another URL', () => {
    expect(twilioInbound.verify(form(fixture('sms.txt'), 'other'), { auth_token: TOKEN }).ok).toBe(false);
    expect(twilioInbound.verify(form(fixture('sms.txt'), null), { auth_token: TOKEN }).ok).toBe(false);
    const req = form(fixture('sms.txt'));
    expect(
      twilioInbound.verify(
        { ...req, body: new TextEncoder().encode(fixture('sms.txt').replace('Hi', 'Ho')) },
        { auth_token: TOKEN },
      ).ok,
    ).toBe(false);
    expect(
      twilioInbound.verify(form(fixture('sms.txt'), TOKEN, 'https://evil.example.com/x'), { auth_token: TOKEN }).ok,
    ).toBe(false);
  });
});

describe('parse', () => {
  it('an SMS', () => {
    const req = form(fixture('sms.txt'));
    expect(twilioInbound.accountIdentifiers(req)).toEqual(['+14155550100']);
    expect(parseTwilioInbound(req)[0]).toMatchObject({
      channel: 'sms',
      external_id: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
      sender_identifier: '+447700900123',
      sender_name: null,
      account_identifier: '+14155550100',
      type: 'text',
      text: 'Hi, do you have rooms in May?',
    });
  });
  it('an MMS with two media', () => {
    const [m] = parseTwilioInbound(form(fixture('mms.txt')));
    expect(m!.type).toBe('image');
    expect(m!.media.map((x) => x.mime_type)).toEqual(['image/jpeg', 'application/pdf']);
    expect(m!.media[1]!.url).toMatch(/\/Media\/ME2$/);
  });
  it('a WhatsApp location with the profile name, prefixes stripped', () => {
    const req = form(fixture('whatsapp-location.txt'));
    expect(twilioInbound.accountIdentifiers(req)).toEqual(['+14155550199']);
    expect(parseTwilioInbound(req)[0]).toMatchObject({
      channel: 'twilio_whatsapp',
      sender_identifier: '+5511999990000',
      sender_name: 'Maria Souza',
      type: 'location',
      location: { latitude: 38.7223, longitude: -9.1393, name: 'Hotel', address: 'Praça do Comércio, Lisboa' },
    });
  });
  it('status callbacks: undelivered is failed with the error code; the account is From', () => {
    const req = form(fixture('status-undelivered.txt'));
    expect(twilioStatus.accountIdentifiers(req)).toEqual(['+14155550100']);
    expect(parseTwilioStatus(req)).toMatchObject([
      { status: 'failed', external_id: 'SM4f0e8ae6ade43cb3c0ce4525424e404f', error: { code: '30006' } },
    ]);
    expect(parseTwilioStatus(form(fixture('status-delivered.txt')))).toMatchObject([
      { channel: 'twilio_whatsapp', status: 'delivered', account_identifier: '+14155550199' },
    ]);
    const queued = twilioStatusParams({
      sid: 'SM6f0e8ae6ade43cb3c0ce4525424e404f',
      status: 'queued',
      from: '+14155550100',
      to: '+447700900123',
    });
    expect(parseTwilioStatus(form(new URLSearchParams(queued).toString()))).toEqual([]);
  });
  it('malformed forms are MalformedPayloadError', () => {
    expect(() => parseTwilioInbound(form('Body=hi'))).toThrow(MalformedPayloadError);
    expect(() => parseTwilioStatus(form('From=%2B1'))).toThrow(MalformedPayloadError);
  });
});

describe('bad values in a signed webhook (issue 21 point 2)', () => {
  const { cases } = JSON.parse(fixture('webhook-request-bad-values.json')) as { cases: BadValueCase[] };

  it.each(cases)('$case: refused naming $field', (c) => {
    const params = Object.fromEntries(new URLSearchParams(fixture(c.base)));
    const value = caseValue(c.to);
    if (value === null) delete params[c.set];
    else params[c.set] = String(value);
    const req = form(new URLSearchParams(params).toString());
    const status = c.base.startsWith('status-');
    const err = (() => {
      try {
        if (status) parseTwilioStatus(req);
        else parseTwilioInbound(req);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MalformedPayloadError);
    expect((err as MalformedPayloadError).issues.map((i) => i.field)).toContain(c.field);
    expect((err as MalformedPayloadError).message).toContain(c.field);
  });
});

describe('send (twilio SDK against a fake Twilio)', () => {
  const message = {
    message_id: 3,
    tenant: 'acme',
    to: '+447700900123',
    from: '+14155550100',
    type: 'text' as const,
    text: 'See you in May',
    media_url: null,
    template: null,
    subject: null,
    in_reply_to: null,
    references: [],
    status_callback_url: 'https://comms.example.com/webhooks/acme/twilio/status',
  };
  const creds = { account_sid: 'AC00000000000000000000000000000001', auth_token: 'tok' };
  it('creates the Message resource with basic auth and returns the sid', async () => {
    const fake = await fakeServer(() => ({
      status: 201,
      body: { sid: 'SMout000000000000000000000000000001', status: 'queued' },
    }));
    try {
      expect(await sendTwilioSms(message, creds, { baseUrl: fake.url })).toEqual({
        provider_message_id: 'SMout000000000000000000000000000001',
      });
      const req = fake.requests[0]!;
      expect(req.path).toBe(`/2010-04-01/Accounts/${creds.account_sid}/Messages.json`);
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${creds.account_sid}:tok`).toString('base64')}`);
      expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
        From: '+14155550100',
        To: '+447700900123',
        Body: 'See you in May',
        StatusCallback: message.status_callback_url,
      });
      await sendTwilioWhatsApp({ ...message, type: 'image', media_url: 'https://f.example.com/a.jpg' }, creds, {
        baseUrl: fake.url,
      });
      expect(Object.fromEntries(new URLSearchParams(fake.requests[1]!.body))).toMatchObject({
        From: 'whatsapp:+14155550100',
        To: 'whatsapp:+447700900123',
        MediaUrl: 'https://f.example.com/a.jpg',
      });
    } finally {
      await fake.close();
    }
  });
  it('classifies 400/21211 as permanent, 429/20429 and 500 as transient', async () => {
    const replies = [
      { status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } },
      { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } },
      { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } },
    ];
    const fake = await fakeServer((_, n) => replies[n - 1]!);
    try {
      const errs: ProviderError[] = [];
      for (let i = 0; i < 3; i++) errs.push(await sendTwilioSms(message, creds, { baseUrl: fake.url }).catch((e) => e));
      expect(errs.map((e) => [e.code, e.transient])).toEqual([
        ['21211', false],
        ['20429', true],
        ['20500', true],
      ]);
    } finally {
      await fake.close();
    }
  });
});

describe('testing kit', () => {
  it("builds the documented parameters of the fixtures' SMS and status callback", () => {
    const params = (name: string) => Object.fromEntries(new URLSearchParams(fixture(name)));
    expect(params('sms.txt')).toMatchObject(
      twilioInboundParams({
        from: '+447700900123',
        to: '+14155550100',
        body: 'Hi, do you have rooms in May?',
        sid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
        accountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      }),
    );
    expect(params('status-undelivered.txt')).toMatchObject(
      twilioStatusParams({
        sid: 'SM4f0e8ae6ade43cb3c0ce4525424e404f',
        status: 'undelivered',
        errorCode: '30006',
        from: '+14155550100',
        to: '+447700900123',
        accountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      }),
    );
  });
});
