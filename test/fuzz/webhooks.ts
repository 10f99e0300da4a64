/**
 * The webhooks the fuzzers start from and how they mutate them: documented bodies from the adapters' testing kits,
 * changed in up to three places (wrong types, removals, deep nesting, huge arrays, NUL, lone surrogates, extreme
 * numbers), cut short, replaced by arbitrary bytes, or given invalid UTF-8, then signed as the provider signs.
 */
import type { InboundAdapter, RawRequest } from '@comms/adapter-kit';
import { messengerInbound } from '@comms/adapter-messenger';
import { messengerText, messengerWebhook, signedMetaWebhook } from '@comms/adapter-messenger/testing';
import { sendgridEvents, sendgridInbound } from '@comms/adapter-sendgrid';
import {
  sendgridEvent,
  sendgridEventKeys,
  sendgridInboundForm,
  signedSendGridEvents,
} from '@comms/adapter-sendgrid/testing';
import { createSesInbound } from '@comms/adapter-ses';
import { mimeMessage, sesEvent, sesReceived, signedSnsNotification } from '@comms/adapter-ses/testing';
import { twilioInbound, twilioStatus } from '@comms/adapter-twilio';
import { signedTwilioWebhook, twilioInboundParams, twilioStatusParams } from '@comms/adapter-twilio/testing';
import { whatsappInbound } from '@comms/adapter-whatsapp';
import { whatsappStatus, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { anyJson, tooDeep } from './schema-arbitraries.js';

export const APP_SECRET = 'fuzz-app-secret';
export const AUTH_TOKEN = 'fuzz-auth-token';
export const keys = sendgridEventKeys();
/**
 * SNS signs with RSA. Unless a test serves the certificate (the gateway fuzz does), none is reachable, verify
 * refuses, and parse is what is fuzzed.
 */
const unservedSigning = {
  key: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  certUrl: 'https://127.0.0.1:1/SimpleNotificationService-fuzz.pem',
};
export const SES_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:fuzz-ses';
export const SES_INBOUND = 'desk@ses.acme.example';
const SES_MAIL = { to: SES_INBOUND, from: 'ana@example.com', text: 'Hi, rooms in May?' };

export type Body =
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; params: Record<string, string> }
  | { kind: 'multipart'; fields: Record<string, string> };

export interface Target {
  name: string;
  adapter: InboundAdapter;
  credentials: Record<string, string>;
  /** Documented webhooks to mutate. */
  seeds: Body[];
  /** The request for a body, signed as the provider would sign it. */
  request(body: Body): Promise<RawRequest>;
}

const metaRequest =
  (url: string) =>
  async (body: Body): Promise<RawRequest> => {
    const { body: text, headers } = signedMetaWebhook((body as { value: unknown }).value, APP_SECRET);
    return { url, headers, body: new TextEncoder().encode(text) };
  };
const twilioRequest =
  (url: string) =>
  async (body: Body): Promise<RawRequest> => {
    const { body: text, headers } = signedTwilioWebhook((body as { params: Record<string, string> }).params, {
      url,
      authToken: AUTH_TOKEN,
    });
    return { url, headers, body: new TextEncoder().encode(text) };
  };

/**
 * Every inbound route with documented webhooks to start from, signed for `base`/webhooks/`tenant`/… (the URL
 * Twilio signs), and the credentials and account identifiers they need.
 */
export function webhookTargets(
  base: string,
  tenant: string,
  /** How SNS notifications are signed: a key and the URL its certificate is served at. */
  snsSigning: { key: string; certUrl: string } = unservedSigning,
): Target[] {
  const at = (route: string) => `${base}/webhooks/${tenant}/${route}`;
  return [
    {
      name: 'WhatsApp',
      adapter: whatsappInbound,
      credentials: { app_secret: APP_SECRET },
      seeds: [
        {
          kind: 'json',
          value: whatsappWebhook([whatsappText({ from: '5511999990000', text: 'Olá! Quartos em Lisboa?' })]),
        },
        {
          kind: 'json',
          value: whatsappWebhook([whatsappStatus({ id: 'wamid.x1', status: 'read', recipient: '5511999990000' })]),
        },
      ],
      request: metaRequest(at('whatsapp')),
    },
    {
      name: 'Messenger and Instagram',
      adapter: messengerInbound,
      credentials: { app_secret: APP_SECRET },
      seeds: [
        {
          kind: 'json',
          value: messengerWebhook({
            object: 'page',
            account: '1234567890',
            messaging: [messengerText({ account: '1234567890', from: '987654321', text: 'Hi' })],
          }),
        },
        {
          kind: 'json',
          value: messengerWebhook({
            object: 'instagram',
            account: '17841400000000',
            messaging: [messengerText({ account: '17841400000000', from: '5550001', text: 'Oi' })],
          }),
        },
      ],
      request: metaRequest(at('messenger')),
    },
    {
      name: 'Twilio inbound',
      adapter: twilioInbound,
      credentials: { auth_token: AUTH_TOKEN },
      seeds: [
        { kind: 'form', params: twilioInboundParams({ from: '+5511999990000', to: '+14155550100', body: 'Hello' }) },
      ],
      request: twilioRequest(at('twilio')),
    },
    {
      name: 'Twilio status',
      adapter: twilioStatus,
      credentials: { auth_token: AUTH_TOKEN },
      seeds: [
        {
          kind: 'form',
          params: twilioStatusParams({
            sid: `SM${'a'.repeat(32)}`,
            status: 'delivered',
            from: '+14155550100',
            to: '+5511999990000',
          }),
        },
      ],
      request: twilioRequest(at('twilio/status')),
    },
    {
      name: 'SendGrid Inbound Parse',
      adapter: sendgridInbound,
      credentials: { inbound_token: 'fuzz-inbound-token' },
      seeds: [
        {
          kind: 'multipart',
          fields: Object.fromEntries(
            [
              ...sendgridInboundForm({
                to: 'support@inbound.acme.example',
                from: 'ana@example.com',
                text: 'Hi, rooms in May?',
              }).entries(),
            ].map(([k, v]) => [k, String(v)]),
          ),
        },
      ],
      async request(body) {
        const form = new FormData();
        for (const [k, v] of Object.entries((body as { fields: Record<string, string> }).fields)) form.set(k, v);
        const res = new Response(form);
        return {
          url: `${at('sendgrid/inbound')}?token=fuzz-inbound-token`,
          headers: { 'content-type': res.headers.get('content-type')! },
          body: new Uint8Array(await res.arrayBuffer()),
        };
      },
    },
    {
      name: 'SendGrid events',
      adapter: sendgridEvents,
      credentials: { event_public_key: keys.publicKey },
      seeds: [
        {
          kind: 'json',
          value: [
            sendgridEvent({ event: 'delivered', email: 'ana@example.com', sgMessageId: 'abc123.filter0001' }),
            sendgridEvent({ event: 'open', email: 'ana@example.com', sgMessageId: 'abc123.filter0001' }),
          ],
        },
      ],
      async request(body) {
        const { body: text, headers } = signedSendGridEvents((body as { value: unknown[] }).value, keys.privateKey);
        return {
          url: at('sendgrid/events'),
          headers,
          body: new TextEncoder().encode(text),
        };
      },
    },
    {
      name: 'SES (SNS)',
      adapter: createSesInbound({
        trust: { hosts: ['127.0.0.1'] },
        // Mail an S3 action stored: the same MIME message as the SNS action's.
        s3: async () => Buffer.from(mimeMessage(SES_MAIL)),
      }),
      credentials: {},
      seeds: [
        { kind: 'json', value: sesReceived(SES_MAIL, { topicArn: SES_TOPIC }) },
        { kind: 'json', value: sesReceived(SES_MAIL, { topicArn: SES_TOPIC, encoding: 'BASE64' }) },
        { kind: 'json', value: sesEvent('Bounce', '0100018c-fuzz-000000') },
        { kind: 'json', value: sesEvent('DeliveryDelay', '0100018c-fuzz-000000') },
      ],
      // The SES notification is the SNS Message, a JSON string inside the signed envelope.
      async request(body) {
        const { body: text, headers } = signedSnsNotification(
          SES_TOPIC,
          (body as { value: unknown }).value ?? null,
          snsSigning,
        );
        return { url: at('ses'), headers, body: new TextEncoder().encode(text) };
      },
    },
  ];
}

/** Every path to a value in a JSON document, as key lists. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value))
      out.push(...paths(v, [...prefix, Array.isArray(value) ? Number(k) : k]));
  return out;
}

/** The value at a path, or undefined. */
function valueAt(root: unknown, path: (string | number)[]): unknown {
  let node = root as Record<string | number, unknown> | undefined;
  for (const key of path) node = node?.[key] as Record<string | number, unknown> | undefined;
  return node;
}

function setAt(root: unknown, path: (string | number)[], to: unknown | typeof REMOVE): unknown {
  if (path.length === 0) return to === REMOVE ? null : to;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (to === REMOVE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = to;
  return copy;
}
const REMOVE = Symbol('remove');

/** What a value anywhere in a provider's body may become. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  tooDeep,
  fc.constant(REMOVE),
  fc.array(fc.constant({ a: 1 }), { minLength: 1_000, maxLength: 5_000 }),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    'a\udfffb',
    '\u202e',
    'x'.repeat(100_000),
    -1,
    1e21,
    -1e21,
    2 ** 53 + 1,
    1.5,
    '9'.repeat(30),
    '-0',
  ),
);

function mutatedBody(seed: Body): fc.Arbitrary<Body> {
  if (seed.kind === 'json') {
    const all = paths(seed.value);
    const apply = (edits: [(string | number)[], unknown][]) => ({
      kind: 'json' as const,
      value: edits.reduce((v, [p, to]) => {
        try {
          return setAt(v, p, to);
        } catch {
          return v;
        }
      }, seed.value),
    });
    // Anything anywhere (mostly refused), or a string leaf made another string of any content (mostly taken:
    // the text a customer writes may hold anything).
    const strings = all.filter((p) => typeof valueAt(seed.value, p) === 'string');
    // What people write (a message's text, a name) takes anything; ids and times are checked strictly.
    const free = strings.filter((p) =>
      ['body', 'text', 'name', 'subject', 'reason', 'response'].includes(String(p.at(-1))),
    );
    const anything = fc
      .array(fc.tuple(fc.constantFrom(...all), replacement), { minLength: 1, maxLength: 3 })
      .map(apply);
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.constantFrom('', '\u0000', '\ud800', 'a\u0000b'),
    );
    const leaves = fc.array(fc.tuple(fc.constantFrom(...strings), text), { minLength: 1, maxLength: 3 }).map(apply);
    const written = free.length
      ? fc.array(fc.tuple(fc.constantFrom(...free), text), { minLength: 1, maxLength: 2 }).map(apply)
      : leaves;
    return fc.oneof(anything, leaves, written);
  }
  const fields = seed.kind === 'form' ? seed.params : seed.fields;
  const names = Object.keys(fields);
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 50 }),
    fc.constantFrom('', '\u0000', '\ud800', 'x'.repeat(100_000), '{', '[]', '{"to":1}', '-1', '99999999999999999999'),
  );
  return fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...names), fc.string({ minLength: 1, maxLength: 10 })),
        fc.option(text, { nil: undefined }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      const next = { ...fields };
      for (const [name, value] of edits) {
        if (value === undefined) delete next[name];
        else next[name] = value;
      }
      return seed.kind === 'form'
        ? { kind: 'form' as const, params: next }
        : { kind: 'multipart' as const, fields: next };
    });
}

/** The raw request a provider (or anyone) might send: a mutated documented one, cut short, or just bytes. */
export type Input = (() => Promise<RawRequest>) & { [fc.toStringMethod]?: () => string };

/** An input that prints as what it is when fast-check reports it. */
function described(make: () => Promise<RawRequest>, what: () => string): Input {
  return Object.assign(make, { [fc.toStringMethod]: () => what().slice(0, 2_000) });
}

const summary = (v: unknown) => {
  const text =
    JSON.stringify(v, (_k, x) => (typeof x === 'string' && x.length > 40 ? `${x.slice(0, 20)}…(${x.length})` : x)) ??
    String(v);
  return text.length > 300 ? `${text.slice(0, 300)}…(${text.length})` : text;
};

export function rawRequests(target: Target): fc.Arbitrary<Input> {
  const mutated = fc.oneof(...target.seeds.map(mutatedBody)).map((body) =>
    described(
      () => target.request(body),
      () => `mutated ${summary(body)}`,
    ),
  );
  const truncated = fc
    .tuple(fc.constantFrom(...target.seeds), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([seed, at]) => async () => {
      const req = await target.request(seed);
      return { ...req, body: req.body.slice(0, Math.floor(req.body.length * at)) };
    });
  const bytes = fc.tuple(fc.constantFrom(...target.seeds), fc.uint8Array({ maxLength: 2_000 })).map(([seed, junk]) =>
    described(
      async () => ({ ...(await target.request(seed)), body: junk }),
      () => `${junk.length} arbitrary bytes`,
    ),
  );
  const badUtf8 = fc.constantFrom(...target.seeds).map((seed) =>
    described(
      async () => {
        const req = await target.request(seed);
        const body = new Uint8Array(req.body.length + 4);
        body.set(req.body.slice(0, req.body.length >> 1));
        body.set([0xff, 0xfe, 0xc3, 0x28], req.body.length >> 1);
        body.set(req.body.slice(req.body.length >> 1), (req.body.length >> 1) + 4);
        return { ...req, body };
      },
      () => 'invalid UTF-8 in the middle',
    ),
  );
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: truncated },
    { weight: 1, arbitrary: bytes },
    { weight: 1, arbitrary: badUtf8 },
  );
}
