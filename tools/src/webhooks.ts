/**
 * Provider-shaped, correctly signed webhooks for the simulator. The bodies and signatures come from the adapters'
 * testing kits, which follow the providers' documented payloads (each kit names its documentation pages):
 * `@comms/adapter-whatsapp/testing`, `@comms/adapter-messenger/testing`, `@comms/adapter-twilio/testing`,
 * `@comms/adapter-sendgrid/testing`. The accounts they describe are sandbox accounts: with the service's sandbox
 * transport on (the embedded defaults), replies through them are answered by the sandbox and come back
 * delivered and read, signed with the same secrets.
 */
import { messengerText, messengerWebhook, signedMetaWebhook } from '@comms/adapter-messenger/testing';
import { sendgridEventKeys, sendgridInboundForm } from '@comms/adapter-sendgrid/testing';
import { signedTwilioWebhook, twilioInboundParams } from '@comms/adapter-twilio/testing';
import { whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';

export const SIMULATED_PROVIDERS = ['whatsapp', 'messenger', 'instagram', 'sms', 'twilio_whatsapp', 'email'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

export interface SimulatedWebhook {
  url: string;
  headers: Record<string, string>;
  body: string | FormData;
  /** The contact identifier the webhook comes from. */
  contact: string;
  /** The Simulator channel account the webhook is signed for: a sandbox account, with the secrets it signs with. */
  account: { provider: string; identifier: string; credentials: Record<string, string>; sandbox: true };
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
  const identifier = SIM_IDS[provider];
  switch (provider) {
    case 'whatsapp': {
      const from = o.from ?? '5511999990000';
      const payload = whatsappWebhook([whatsappText({ from, name: o.name, text: o.text })], {
        phoneNumberId: identifier,
      });
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/whatsapp`,
        ...signedMetaWebhook(payload, o.secret),
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { app_secret: o.secret, verify_token: o.secret, access_token: 'simulated' },
          sandbox: true,
        },
      };
    }
    case 'messenger':
    case 'instagram': {
      const from = o.from ?? (provider === 'messenger' ? '6543210987654321' : '17841400000000099');
      const payload = messengerWebhook({
        object: provider === 'messenger' ? 'page' : 'instagram',
        account: identifier,
        messaging: [messengerText({ account: identifier, from, text: o.text })],
      });
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/messenger`,
        ...signedMetaWebhook(payload, o.secret),
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { app_secret: o.secret, verify_token: o.secret, page_access_token: 'simulated' },
          sandbox: true,
        },
      };
    }
    case 'sms':
    case 'twilio_whatsapp': {
      const from = o.from ?? '+14155550123';
      const wa = provider === 'twilio_whatsapp';
      const accountSid = 'ACsimulated000000000000000000000';
      const params = twilioInboundParams({
        from: wa ? `whatsapp:${from}` : from,
        to: wa ? `whatsapp:${identifier}` : identifier,
        body: o.text,
        accountSid,
        profileName: o.name,
      });
      const url = `${o.baseUrl}/webhooks/${o.tenant}/twilio`;
      return {
        url,
        ...signedTwilioWebhook(params, { url, authToken: o.secret }),
        contact: from,
        account: {
          provider,
          identifier,
          credentials: { account_sid: accountSid, auth_token: o.secret },
          sandbox: true,
        },
      };
    }
    case 'email': {
      const from = o.from ?? 'traveller@example.com';
      // SendGrid signs its Event Webhook with a key only it holds: the sandbox, playing SendGrid, gets the private half.
      const keys = sendgridEventKeys();
      return {
        url: `${o.baseUrl}/webhooks/${o.tenant}/sendgrid/inbound?token=${o.secret}`,
        headers: {},
        body: sendgridInboundForm({ to: identifier, from, name: o.name, text: o.text, date: new Date() }),
        contact: from,
        account: {
          provider,
          identifier,
          credentials: {
            inbound_token: o.secret,
            from_email: identifier,
            api_key: 'simulated',
            event_public_key: keys.publicKey,
            event_private_key: keys.privateKeyDer,
          },
          sandbox: true,
        },
      };
    }
  }
}
