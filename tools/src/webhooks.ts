/**
 * Provider-shaped, correctly signed webhooks for the simulator (and the tests that drive the gateway).
 * Shapes follow the providers' documented payloads:
 * - WhatsApp: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
 * - Messenger: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 * - Twilio: https://www.twilio.com/docs/messaging/guides/webhook-request and
 *   https://www.twilio.com/docs/usage/webhooks/webhooks-security (X-Twilio-Signature: HMAC-SHA1 of URL + sorted params)
 * - SendGrid Inbound Parse: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SIMULATED_PROVIDERS = ['whatsapp', 'messenger', 'instagram', 'sms', 'twilio_whatsapp', 'email'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

export interface SimulatedWebhook {
  url: string;
  headers: Record<string, string>;
  body: string | FormData;
  /** The contact identifier the webhook comes from. */
  contact: string;
  account: { provider: string; identifier: string; credentials: Record<string, string> };
}

export function metaSignature(body: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** Twilio's documented scheme: the full URL, then each POST parameter name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

const SIM_IDS = {
  whatsapp: '100000000000001',
  messenger: '100000000000002',
  instagram: '17841400000000003',
  sms: '+15005550006',
  twilio_whatsapp: '+15005550007',
  email: 'simulator@inbound.example.com',
} as const;

export function buildSimulatedWebhook(
  provider: SimulatedProvider,
  o: { baseUrl: string; tenant: string; from?: string | undefined; name: string; text: string; secret: string },
): SimulatedWebhook {
  const now = Math.floor(Date.now() / 1000);
  const id = randomBytes(12).toString('hex');
  const identifier = SIM_IDS[provider];
  switch (provider) {
    case 'whatsapp': {
      const from = o.from ?? '5511999990000';
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: identifier },
                  contacts: [{ profile: { name: o.name }, wa_id: from }],
                  messages: [{ from, id: `wamid.${id}`, timestamp: String(now), type: 'text', text: { body: o.text } }],
                },
              },
            ],
          },
        ],
      });
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/whatsapp`,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(body, o.secret) },
        body,
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { app_secret: o.secret, verify_token: o.secret, access_token: 'simulated' },
        },
      };
    }
    case 'messenger':
    case 'instagram': {
      const from = o.from ?? (provider === 'messenger' ? '6543210987654321' : '17841400000000099');
      const body = JSON.stringify({
        object: provider === 'messenger' ? 'page' : 'instagram',
        entry: [
          {
            id: identifier,
            time: now * 1000,
            messaging: [
              {
                sender: { id: from },
                recipient: { id: identifier },
                timestamp: now * 1000,
                message: { mid: `m_${id}`, text: o.text },
              },
            ],
          },
        ],
      });
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/messenger`,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(body, o.secret) },
        body,
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { app_secret: o.secret, verify_token: o.secret, page_access_token: 'simulated' },
        },
      };
    }
    case 'sms':
    case 'twilio_whatsapp': {
      const from = o.from ?? '+14155550123';
      const wa = provider === 'twilio_whatsapp';
      const params: Record<string, string> = {
        ToCountry: 'US',
        SmsMessageSid: `SM${id}${id.slice(0, 8)}`,
        NumMedia: '0',
        SmsSid: `SM${id}${id.slice(0, 8)}`,
        SmsStatus: 'received',
        Body: o.text,
        To: wa ? `whatsapp:${identifier}` : identifier,
        NumSegments: '1',
        MessageSid: `SM${id}${id.slice(0, 8)}`,
        AccountSid: 'ACsimulated000000000000000000000',
        From: wa ? `whatsapp:${from}` : from,
        ApiVersion: '2010-04-01',
        ...(wa ? { ProfileName: o.name, WaId: from.replace('+', '') } : {}),
      };
      const url = `${o.baseUrl}/webhooks/${o.tenant}/twilio`;
      return {
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(o.secret, url, params),
        },
        body: new URLSearchParams(params).toString(),
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { account_sid: 'ACsimulated000000000000000000000', auth_token: o.secret },
        },
      };
    }
    case 'email': {
      const from = o.from ?? 'traveller@example.com';
      const form = new FormData();
      const messageId = `<${id}@mail.example.com>`;
      form.set(
        'headers',
        [
          `Message-ID: ${messageId}`,
          `From: ${o.name} <${from}>`,
          `To: ${identifier}`,
          'Subject: Trip enquiry',
          `Date: ${new Date().toUTCString()}`,
          'MIME-Version: 1.0',
        ].join('\n'),
      );
      form.set('from', `${o.name} <${from}>`);
      form.set('to', identifier);
      form.set('subject', 'Trip enquiry');
      form.set('text', o.text);
      form.set('envelope', JSON.stringify({ to: [identifier], from }));
      form.set('charsets', JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8' }));
      form.set('SPF', 'pass');
      form.set('attachments', '0');
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/sendgrid/inbound?token=${o.secret}`,
        headers: {},
        body: form,
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { inbound_token: o.secret, from_email: identifier, api_key: 'simulated' },
        },
      };
    }
  }
}
