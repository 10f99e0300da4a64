// Inbound media end to end: signed webhooks through the gateway, the media-fetch job on the worker (BullMQ on the
// real Redis), the files in a local store, and agents opening them through the API. The providers' APIs are one fake
// on loopback answering as they document:
// - WhatsApp media: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#retrieve-media-url
//   (`GET /{media-id}` → {messaging_product, url, mime_type, sha256, file_size, id}; the url fetched with the token)
// - Twilio media: https://www.twilio.com/docs/messaging/api/media-resource#fetch-a-media-resource (basic auth,
//   then a redirect to the file's short-lived storage URL)
// - Messenger attachments: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
//   (`attachments[].payload.url`, a CDN link)
// - SendGrid Inbound Parse: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
//   (`attachments`, `attachment-info`, the files as parts `attachment1…`)
import { fetchMessengerMedia } from '@comms/adapter-messenger';
import { messengerWebhook, signedMetaWebhook } from '@comms/adapter-messenger/testing';
import { sendgridInboundForm } from '@comms/adapter-sendgrid/testing';
import { signedTwilioWebhook, twilioInboundParams } from '@comms/adapter-twilio/testing';
import { whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { sweepPendingMedia } from '@comms/core/inbox';
import { loadConfig } from '@comms/core/platform';
import { mediaSourcesFor } from '@comms/worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDb } from '../support/env.js';
import { type FakeProvider, type RecordedRequest, startFakeProvider } from '../support/fake-provider.js';
import { api } from '../support/harness.js';
import { download, jpegBytes, sha256, tempMediaDir } from '../support/media.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';
import { eventually, messageRow } from '../support/wait.js';

const PUBLIC_BASE = 'https://comms.example.com';
const PHONE_ID = '106540352242922';
const WA_TOKEN = 'EAAG-media-token';
const WA_SECRET = 'wa-media-secret';
const PAGE_ID = '1234567890';
const PAGE_SECRET = 'page-media-secret';
const TW_NUMBER = '+14155550100';
const TW_SID = 'AC00000000000000000000000000000042';
const TW_TOKEN = 'twilio-media-token';
const INBOUND = 'support@inbound.media.example';
const MAX = 512 * 1024;
/** Where the webhook's Messenger attachment URLs point (Meta's CDN); the test resolves it to the fake. */
const META_CDN = 'https://lookaside.fbsbx.com';

/** What the fake serves: files by path, and how often each path is to fail first. */
const files = new Map<string, { bytes: Buffer; type: string }>();
const failFirst = new Map<string, { times: number; status: number }>();

function serve(req: RecordedRequest): { status: number; body?: unknown; headers?: Record<string, string> } {
  const path = req.path.split('?')[0]!;
  const fail = failFirst.get(path);
  if (fail && fail.times > 0) {
    fail.times -= 1;
    return { status: fail.status, body: { error: { message: 'temporarily unavailable', code: 2 } } };
  }
  // WhatsApp, step 1: the media id's URL (with the account's token).
  const wa = /^\/(\d{6,})$/.exec(path);
  if (wa) {
    if (req.headers.authorization !== `Bearer ${WA_TOKEN}`) return { status: 401, body: { error: { code: 190 } } };
    const file = files.get(`/wa-cdn/${wa[1]}`);
    if (!file) return { status: 404, body: { error: { message: 'Unsupported get request', code: 100 } } };
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: `${fakeUrl}/wa-cdn/${wa[1]}`,
        mime_type: file.type,
        sha256: sha256(file.bytes),
        file_size: file.bytes.length,
        id: wa[1],
      },
    };
  }
  // Twilio: basic auth on api.twilio.com's path, then a redirect to storage.
  const tw = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\/\w+\/Media\/(\w+)$/.exec(path);
  if (tw) {
    const basic = `Basic ${Buffer.from(`${TW_SID}:${TW_TOKEN}`).toString('base64')}`;
    if (req.headers.authorization !== basic) return { status: 401, body: { code: 20003 } };
    return { status: 307, headers: { location: `${fakeUrl}/twilio-storage/${tw[2]}` } };
  }
  if (path.startsWith('/wa-cdn/') && req.headers.authorization !== `Bearer ${WA_TOKEN}`) return { status: 401 };
  const file = files.get(path);
  if (!file) return { status: 404, body: {} };
  return { status: 200, body: file.bytes, headers: { 'content-type': file.type } };
}

let fake: FakeProvider;
let fakeUrl: string;
let h: Stack;
let db: pg.Client;
let media: ReturnType<typeof tempMediaDir>;
let tenant: string;
let token: string;

beforeAll(async () => {
  fake = await startFakeProvider((req) => serve(req));
  fakeUrl = fake.url;
  media = tempMediaDir();
  const env = {
    WHATSAPP_API_URL: fake.url,
    MESSENGER_API_URL: fake.url,
    TWILIO_API_URL: fake.url,
    SENDGRID_API_URL: fake.url,
    PUBLIC_BASE_URL: PUBLIC_BASE,
    MEDIA_DIR: media.dir,
    MEDIA_MAX_BYTES: String(MAX),
  };
  const sources = mediaSourcesFor(loadConfig({ ...env, NODE_ENV: 'test' }));
  // Meta's CDN is https on the internet: the test stands in for its DNS, sending the adapter's request to the fake.
  const viaFake: typeof fetchMessengerMedia = (source, credentials, options) =>
    fetchMessengerMedia(
      { ...source, provider_url: source.provider_url?.replace(META_CDN, fakeUrl) ?? null },
      credentials,
      options,
    );
  sources.messenger = { fetch: viaFake, options: sources.messenger!.options };
  h = await startStack({ redis: true, worker: { mediaSources: sources }, env });
  db = await connectTestDb();
  tenant = await h.createTenant('inmedia');
  token = await h.token({ tenant });
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: WA_SECRET, access_token: WA_TOKEN, verify_token: 'v' },
  });
  await createAccount(h, tenant, {
    provider: 'messenger',
    identifier: PAGE_ID,
    credentials: { app_secret: PAGE_SECRET, page_access_token: 'page-token', verify_token: 'v' },
  });
  await createAccount(h, tenant, {
    provider: 'sms',
    identifier: TW_NUMBER,
    credentials: { account_sid: TW_SID, auth_token: TW_TOKEN },
  });
  await createAccount(h, tenant, {
    provider: 'email',
    identifier: INBOUND,
    credentials: { api_key: 'SG.key', from_email: 'b@media.example', inbound_token: 'in-token' },
  });
});

afterAll(async () => {
  await db.end();
  await h.close();
  await fake.close();
  media.remove();
});

let seq = 0;
async function whatsappMedia(items: { id: string; type: string; mime: string; filename?: string }[]) {
  const messages = items.map((item) => ({
    from: '16505551234',
    id: `wamid.media${Date.now()}${seq++}`,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: item.type,
    [item.type]: {
      mime_type: item.mime,
      sha256: 'SiUcnAF/t94fMeLMLKGDuOQq2yxlmTOEDvvmWmNcCqU=',
      id: item.id,
      ...(item.filename ? { filename: item.filename } : {}),
    },
  }));
  const payload = whatsappWebhook(
    [{ contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }], messages } as never],
    { phoneNumberId: PHONE_ID },
  );
  const { body, headers } = signedMetaWebhook(payload, WA_SECRET);
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', headers, body });
  expect(res.status).toBe(200);
  return messages.map((m) => m.id);
}

async function messageByExternalId(externalId: string) {
  const { rows } = await db.query(
    `select id from "tenant_${tenant.replaceAll('-', '_')}".inbox_messages where external_id = $1`,
    [externalId],
  );
  return rows[0].id as number;
}

/** The message's attachments once no item is pending. */
async function settled(messageId: number) {
  const row = await eventually(
    () => messageRow(db, tenant, messageId),
    (r) => r.attachments.length > 0 && r.attachments.every((a: { status: string }) => a.status !== 'pending'),
  );
  return row.attachments as Record<string, any>[];
}

describe('inbound media', () => {
  it('WhatsApp: the two-step Graph download with the token, then any user of the tenant opens it byte-identical', async () => {
    const bytes = jpegBytes(200_000);
    files.set('/wa-cdn/1003383421387256', { bytes, type: 'image/jpeg' });
    const before = fake.requests.length;
    const [wamid] = await whatsappMedia([{ id: '1003383421387256', type: 'image', mime: 'image/jpeg' }]);
    const id = await messageByExternalId(wamid!);
    const [item] = await settled(id);
    expect(item).toMatchObject({
      status: 'stored',
      mime_type: 'image/jpeg',
      size: bytes.length,
      sha256: sha256(bytes),
      provider_id: '1003383421387256',
      error: null,
    });
    expect(item!.url).toBe(api(tenant, `/media/${item!.id}`));
    const calls = fake.requests.slice(before).map((r) => [r.path, r.headers.authorization]);
    expect(calls).toEqual([
      ['/1003383421387256', `Bearer ${WA_TOKEN}`],
      ['/wa-cdn/1003383421387256', `Bearer ${WA_TOKEN}`],
    ]);

    // The API shows it on the message, and serves it.
    const conv = (await h.request('GET', api(tenant, '/conversations'))).body.data.find(
      (c: { channel: string }) => c.channel === 'whatsapp',
    );
    const listed = (await h.request('GET', api(tenant, `/messages/conversation/${conv.id}`))).body.data;
    expect(listed.find((m: { id: number }) => m.id === id).attachments[0]).toMatchObject({
      status: 'stored',
      id: item!.id,
    });
    const got = await download(h, item!.url, token);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(bytes));
    const other = await h.createTenant('inmedia');
    const otherToken = await h.token({ tenant: other });
    expect((await download(h, api(other, `/media/${item!.id}`), otherToken)).status).toBe(404);
  });

  it('tells open consoles: message_updated with the stored item', async () => {
    const ws = await h.ws(tenant, token);
    try {
      files.set('/wa-cdn/2003383421387256', { bytes: jpegBytes(1000), type: 'image/jpeg' });
      const [wamid] = await whatsappMedia([{ id: '2003383421387256', type: 'image', mime: 'image/jpeg' }]);
      const frame = await ws.waitFor((f) => f.type === 'message_updated', 15_000);
      expect(frame.data!.external_id).toBe(wamid);
      expect(frame.data!.attachments[0]).toMatchObject({ status: 'stored', mime_type: 'image/jpeg' });
    } finally {
      await ws.close();
    }
  });

  it('retries a provider answering 500, then stores; a 404 is recorded as failed', async () => {
    files.set('/wa-cdn/3003383421387256', { bytes: jpegBytes(3000), type: 'image/jpeg' });
    failFirst.set('/3003383421387256', { times: 1, status: 500 });
    const [retried, missing] = await whatsappMedia([
      { id: '3003383421387256', type: 'image', mime: 'image/jpeg' },
      { id: '3999999999999999', type: 'image', mime: 'image/jpeg' },
    ]);
    const [ok] = await settled(await messageByExternalId(retried!));
    expect(ok).toMatchObject({ status: 'stored', size: 3000 });
    expect(fake.requests.filter((r) => r.path === '/3003383421387256')).toHaveLength(2);
    const [failed] = await settled(await messageByExternalId(missing!));
    expect(failed).toMatchObject({ status: 'failed', id: null });
    expect(failed!.error).toMatch(/100|404|Unsupported/);
    // Failed once and for all: no retry of a 404.
    expect(fake.requests.filter((r) => r.path === '/3999999999999999')).toHaveLength(1);
  });

  it('records an oversize file and a disallowed type as rejected, with the reason, and keeps the message', async () => {
    files.set('/wa-cdn/4003383421387256', { bytes: jpegBytes(MAX + 10), type: 'video/mp4' });
    files.set('/wa-cdn/5003383421387256', { bytes: Buffer.from('MZ\x90\x00'), type: 'application/x-msdownload' });
    const [big, exe] = await whatsappMedia([
      { id: '4003383421387256', type: 'video', mime: 'video/mp4' },
      { id: '5003383421387256', type: 'document', mime: 'application/x-msdownload', filename: 'tickets.exe' },
    ]);
    const [tooBig] = await settled(await messageByExternalId(big!));
    expect(tooBig).toMatchObject({ status: 'rejected', id: null });
    expect(tooBig!.error).toMatch(/limit of 524288 bytes/);
    const [refused] = await settled(await messageByExternalId(exe!));
    expect(refused).toMatchObject({ status: 'rejected', filename: 'tickets.exe' });
    expect(refused!.error).toMatch(/application\/x-msdownload/);
    // Refused on the declared type: never downloaded.
    expect(fake.requests.some((r) => r.path === '/wa-cdn/5003383421387256')).toBe(false);
  });

  it('stores the same file sent twice once', async () => {
    const bytes = jpegBytes(4000);
    files.set('/wa-cdn/6003383421387256', { bytes, type: 'image/jpeg' });
    files.set('/wa-cdn/6103383421387256', { bytes, type: 'image/jpeg' });
    const [a, b] = await whatsappMedia([
      { id: '6003383421387256', type: 'image', mime: 'image/jpeg' },
      { id: '6103383421387256', type: 'image', mime: 'image/jpeg' },
    ]);
    const [first] = await settled(await messageByExternalId(a!));
    const [second] = await settled(await messageByExternalId(b!));
    expect(second!.id).toBe(first!.id);
    const { rows } = await db.query(
      `select count(*)::int as n from "tenant_${tenant.replaceAll('-', '_')}".media where sha256 = $1`,
      [sha256(bytes)],
    );
    expect(rows[0].n).toBe(1);
  });

  it('Twilio MMS: two items fetched with basic auth through the redirect', async () => {
    const photo = jpegBytes(50_000);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), jpegBytes(20_000)]);
    files.set('/twilio-storage/ME0000000000000000000000000000001', { bytes: photo, type: 'image/jpeg' });
    files.set('/twilio-storage/ME0000000000000000000000000000002', { bytes: pdf, type: 'application/pdf' });
    const params: Record<string, string> = {
      ...twilioInboundParams({ from: '+447700900123', to: TW_NUMBER, body: 'My passport', accountSid: TW_SID }),
      NumMedia: '2',
      MediaContentType0: 'image/jpeg',
      MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${TW_SID}/Messages/MM1/Media/ME0000000000000000000000000000001`,
      MediaContentType1: 'application/pdf',
      MediaUrl1: `https://api.twilio.com/2010-04-01/Accounts/${TW_SID}/Messages/MM1/Media/ME0000000000000000000000000000002`,
    };
    const res = await fetch(`${h.url}/webhooks/${tenant}/twilio`, {
      method: 'POST',
      ...signedTwilioWebhook(params, { url: `${PUBLIC_BASE}/webhooks/${tenant}/twilio`, authToken: TW_TOKEN }),
    });
    expect(res.status).toBe(200);
    const items = await settled(await messageByExternalId(params.MessageSid!));
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ status: 'stored', mime_type: 'image/jpeg', sha256: sha256(photo) });
    expect(items[1]).toMatchObject({ status: 'stored', mime_type: 'application/pdf', sha256: sha256(pdf) });
    const basic = `Basic ${Buffer.from(`${TW_SID}:${TW_TOKEN}`).toString('base64')}`;
    const mediaCalls = fake.requests.filter((r) => r.path.includes('/Media/ME000000000000000000000000000000'));
    expect(mediaCalls.map((r) => r.headers.authorization)).toEqual([basic, basic]);
    expect(fake.requests.filter((r) => r.path.startsWith('/twilio-storage/'))).toHaveLength(2);
    const got = await download(h, items[1]!.url, token);
    expect(sha256(got.bytes)).toBe(sha256(pdf));
    expect(got.headers.get('content-disposition')).toMatch(/^inline/);
  });

  it('Messenger: the attachment payload.url is fetched', async () => {
    const bytes = jpegBytes(30_000);
    files.set('/v/t1.15752-9/photo.jpg', { bytes, type: 'image/jpeg' });
    const mid = `m_media_${Date.now()}`;
    const payload = messengerWebhook({
      account: PAGE_ID,
      messaging: [
        {
          sender: { id: '24000000000000001' },
          recipient: { id: PAGE_ID },
          timestamp: Date.now(),
          message: {
            mid,
            attachments: [{ type: 'image', payload: { url: `${META_CDN}/v/t1.15752-9/photo.jpg` } }],
          },
        } as never,
      ],
    });
    const { body, headers } = signedMetaWebhook(payload, PAGE_SECRET);
    expect((await fetch(`${h.url}/webhooks/${tenant}/messenger`, { method: 'POST', headers, body })).status).toBe(200);
    const [item] = await settled(await messageByExternalId(mid));
    expect(item).toMatchObject({ status: 'stored', mime_type: 'image/jpeg', sha256: sha256(bytes) });
    expect(item!.provider_url).toBe(`${META_CDN}/v/t1.15752-9/photo.jpg`);
  });

  it('email: two attachments stored from the mail itself, without any fetch', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), jpegBytes(8_000)]);
    const photo = jpegBytes(9_000);
    const form = sendgridInboundForm({ to: INBOUND, from: 'ana@example.com', text: 'Tickets attached' });
    form.set('attachments', '2');
    form.set(
      'attachment-info',
      JSON.stringify({
        attachment1: { filename: 'tickets.pdf', name: 'tickets.pdf', type: 'application/pdf' },
        attachment2: { filename: 'hotel.jpg', name: 'hotel.jpg', type: 'image/jpeg' },
      }),
    );
    form.set('attachment1', new Blob([pdf], { type: 'application/pdf' }), 'tickets.pdf');
    form.set('attachment2', new Blob([photo], { type: 'image/jpeg' }), 'hotel.jpg');
    const before = fake.requests.length;
    const res = await fetch(`${h.url}/webhooks/${tenant}/sendgrid/inbound?token=in-token`, {
      method: 'POST',
      body: form,
    });
    expect(res.status).toBe(200);
    const { rows } = await db.query(
      `select id from "tenant_${tenant.replaceAll('-', '_')}".inbox_messages where channel_account_id is not null and content = 'Tickets attached'`,
    );
    const items = await settled(rows[0].id);
    expect(items).toEqual([
      expect.objectContaining({
        status: 'stored',
        filename: 'tickets.pdf',
        mime_type: 'application/pdf',
        sha256: sha256(pdf),
      }),
      expect.objectContaining({
        status: 'stored',
        filename: 'hotel.jpg',
        mime_type: 'image/jpeg',
        sha256: sha256(photo),
      }),
    ]);
    expect(items.some((i) => 'content' in i)).toBe(false);
    expect(fake.requests.length).toBe(before);
    const got = await download(h, items[0]!.url, token);
    expect(got.bytes.equals(pdf)).toBe(true);
    expect(got.headers.get('content-disposition')).toMatch(/filename="tickets.pdf"/);
  });

  it('leaves nothing for the sweep: every item settled, none pending to queue again', async () => {
    const pending = await db.query(
      `select external_id, attachments from "tenant_${tenant.replaceAll('-', '_')}".inbox_messages where attachments @> '[{"status":"pending"}]'`,
    );
    expect(pending.rows).toEqual([]);
    // This tenant's media sweep, for items of any age: the worker's sweep() covers every tenant of the shared test
    // database (other files' pending replies and deliveries too) and only items pending over a minute.
    const ctx = h.runtime.context(await h.runtime.tenants.resolve(tenant));
    expect(await sweepPendingMedia(ctx, 0)).toBe(0);
  });
});
