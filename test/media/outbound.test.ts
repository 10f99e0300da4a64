// Agents' files on replies: uploaded through the API, referenced by `media_id` in POST /messages, and handed to each
// provider the way it takes files, at a fake of all four providers on loopback:
// - WhatsApp by link: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#media-object
// - Messenger attachment by URL: https://developers.facebook.com/docs/messenger-platform/send-messages#url
// - Twilio MediaUrl: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
// - SendGrid attachments: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (base64 `content`)
// The link providers get is a signed, expiring URL under PUBLIC_BASE_URL; the test fetches it as the provider would.
import { messengerText, messengerWebhook, signedMetaWebhook } from '@comms/adapter-messenger/testing';
import { sendgridInboundForm } from '@comms/adapter-sendgrid/testing';
import { signedTwilioWebhook, twilioInboundParams } from '@comms/adapter-twilio/testing';
import { whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, type RecordedRequest, startFakeProvider } from '../support/fake-provider.js';
import { api } from '../support/harness.js';
import { jpegBytes, sha256, tempMediaDir, uploadMedia } from '../support/media.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

const PHONE_ID = '106540352242922';
const PAGE_ID = '1234567890';
const TW_NUMBER = '+14155550100';
const TW_SID = 'AC00000000000000000000000000000043';
const INBOUND = 'support@inbound.out-media.example';

function answer(req: RecordedRequest) {
  if (req.path === `/${PHONE_ID}/messages`)
    return { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: `wamid.out${Date.now()}` }] } };
  if (req.path === '/me/messages')
    return { status: 200, body: { recipient_id: req.json.recipient.id, message_id: `m_out_${Date.now()}` } };
  if (req.path.includes('/Messages.json'))
    return { status: 201, body: { sid: `SM${Date.now()}0000000000000000000`, status: 'queued' } };
  if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `SG${Date.now()}` } };
  return { status: 404, body: {} };
}

let fake: FakeProvider;
let h: Stack;
let media: ReturnType<typeof tempMediaDir>;
let tenant: string;

beforeAll(async () => {
  fake = await startFakeProvider(answer);
  media = tempMediaDir();
  h = await startStack({
    redis: true,
    worker: true,
    env: {
      WHATSAPP_API_URL: fake.url,
      MESSENGER_API_URL: fake.url,
      TWILIO_API_URL: fake.url,
      SENDGRID_API_URL: fake.url,
      MEDIA_DIR: media.dir,
    },
  });
  // Providers fetch links under the public base URL: here, the stack itself on loopback.
  tenant = await h.createTenant('outmedia');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: 'wa-s', access_token: 'EAAG-out', verify_token: 'v' },
  });
  await createAccount(h, tenant, {
    provider: 'messenger',
    identifier: PAGE_ID,
    credentials: { app_secret: 'page-s', page_access_token: 'page-token', verify_token: 'v' },
  });
  await createAccount(h, tenant, {
    provider: 'sms',
    identifier: TW_NUMBER,
    credentials: { account_sid: TW_SID, auth_token: 'tw-token' },
  });
  await createAccount(h, tenant, {
    provider: 'email',
    identifier: INBOUND,
    credentials: { api_key: 'SG.key', from_email: 'bookings@out-media.example', inbound_token: 'in-token' },
  });
  // One customer message per channel, so each has a conversation inside its reply window.
  const wa = signedMetaWebhook(
    whatsappWebhook([whatsappText({ from: '16505550001', text: 'hi' })], { phoneNumberId: PHONE_ID }),
    'wa-s',
  );
  expect((await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...wa })).status).toBe(200);
  const fb = signedMetaWebhook(
    messengerWebhook({
      account: PAGE_ID,
      messaging: [messengerText({ account: PAGE_ID, from: '24000000000000002', text: 'hi' })],
    }),
    'page-s',
  );
  expect((await fetch(`${h.url}/webhooks/${tenant}/messenger`, { method: 'POST', ...fb })).status).toBe(200);
  const tw = signedTwilioWebhook(
    twilioInboundParams({ from: '+447700900124', to: TW_NUMBER, body: 'hi', accountSid: TW_SID }),
    {
      url: `http://localhost:8003/webhooks/${tenant}/twilio`,
      authToken: 'tw-token',
    },
  );
  expect((await fetch(`${h.url}/webhooks/${tenant}/twilio`, { method: 'POST', ...tw })).status).toBe(200);
  const mail = sendgridInboundForm({ to: INBOUND, from: 'ana@example.com', text: 'hi' });
  expect(
    (await fetch(`${h.url}/webhooks/${tenant}/sendgrid/inbound?token=in-token`, { method: 'POST', body: mail })).status,
  ).toBe(200);
});

afterAll(async () => {
  await h.close();
  await fake.close();
  media.remove();
});

async function conversationOf(channel: string): Promise<number> {
  const list = (await h.request('GET', api(tenant, '/conversations'))).body.data;
  return list.find((c: { channel: string }) => c.channel === channel).id;
}

async function reply(channel: string, mediaId: number, content: string | null = null) {
  return h.request('POST', api(tenant, '/messages'), {
    body: { conversation_id: await conversationOf(channel), media_id: mediaId, ...(content ? { content } : {}) },
  });
}

/** The request the fake got for one reply. */
const sentTo = (path: string, match: (r: RecordedRequest) => boolean) =>
  eventually(
    async () => fake.requests.find((r) => r.path.startsWith(path) && match(r)),
    (r) => r !== undefined,
  );

/** Fetches a link as the provider would: no token. The stack's loopback address stands in for PUBLIC_BASE_URL. */
async function fetchLink(link: string) {
  const url = new URL(link);
  const res = await fetch(`${h.url}${url.pathname}${url.search}`);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

describe('outbound media', () => {
  it('WhatsApp: the image by link, a signed URL that serves the file and nothing else', async () => {
    const bytes = jpegBytes(40_000);
    const up = await uploadMedia(h, tenant, bytes, 'image/jpeg', 'voucher.jpg');
    const res = await reply('whatsapp', up.body.id, 'Your voucher');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ type: 'image', attachments: [{ id: up.body.id, status: 'stored' }] });
    const req = await sentTo(`/${PHONE_ID}/messages`, (r) => r.json?.type === 'image');
    expect(req!.json).toMatchObject({
      messaging_product: 'whatsapp',
      type: 'image',
      image: { caption: 'Your voucher' },
    });
    const link = req!.json.image.link as string;
    expect(link).toMatch(
      new RegExp(`^http://localhost:8003/media-links/${tenant}/${up.body.id}\\?expires=\\d+&signature=`),
    );
    const got = await fetchLink(link);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(bytes));
    // A forged or altered link is refused.
    expect((await fetchLink(link.replace(/signature=./, 'signature=x'))).status).toBe(404);
    expect((await fetchLink(link.replace(`/${up.body.id}?`, `/${up.body.id + 1}?`))).status).toBe(404);
  });

  it('Messenger: an attachment by URL', async () => {
    const up = await uploadMedia(h, tenant, jpegBytes(20_000), 'image/png', 'map.png');
    expect((await reply('messenger', up.body.id)).status).toBe(202);
    const req = await sentTo('/me/messages', (r) => r.json?.message?.attachment !== undefined);
    expect(req!.json.message.attachment).toMatchObject({ type: 'image', payload: { is_reusable: false } });
    expect((await fetchLink(req!.json.message.attachment.payload.url)).status).toBe(200);
  });

  it('Twilio: MediaUrl is the signed public link', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), jpegBytes(10_000)]);
    const up = await uploadMedia(h, tenant, pdf, 'application/pdf', 'itinerary.pdf');
    expect((await reply('sms', up.body.id, 'Itinerary')).status).toBe(202);
    const req = await sentTo(`/2010-04-01/Accounts/${TW_SID}/Messages.json`, (r) => r.form?.MediaUrl !== undefined);
    expect(req!.form).toMatchObject({ Body: 'Itinerary', To: '+447700900124' });
    const got = await fetchLink(req!.form!.MediaUrl!);
    expect(got.bytes.equals(pdf)).toBe(true);
  });

  it('email: a real MIME attachment with the bytes', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), jpegBytes(12_000)]);
    const up = await uploadMedia(h, tenant, pdf, 'application/pdf', 'invoice.pdf');
    expect((await reply('email', up.body.id, 'Invoice attached')).status).toBe(202);
    const req = await sentTo('/v3/mail/send', (r) => Array.isArray(r.json?.attachments));
    expect(req!.json.attachments).toEqual([
      { filename: 'invoice.pdf', type: 'application/pdf', content: pdf.toString('base64'), disposition: 'attachment' },
    ]);
  });

  it("refuses at the API, before queuing, a file the provider would refuse, naming the provider's limit", async () => {
    const zip = await uploadMedia(h, tenant, Buffer.from('PK\x03\x04zip'), 'application/zip', 'a.zip');
    const refused = await reply('sms', zip.body.id);
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/sms does not accept files of type application\/zip.*Twilio/);
    const big = await uploadMedia(h, tenant, jpegBytes(6 * 1024 * 1024), 'image/jpeg', 'big.jpg');
    const tooBig = await reply('whatsapp', big.body.id);
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.detail).toMatch(/at most 5242880 bytes/);
    expect((await reply('whatsapp', 99_999)).status).toBe(422);
  });
});
