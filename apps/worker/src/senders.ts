/** Which adapter sends for which channel, and where: base URLs come from config so tests can use fakes. */
import type { Channel, ProviderSandbox, SendFn, SendOptions } from '@comms/adapter-kit';
import { messengerSandbox, sendMessenger } from '@comms/adapter-messenger';
import { sendgridSandbox, sendSendGrid } from '@comms/adapter-sendgrid';
import { sendSes } from '@comms/adapter-ses';
import { sendTwilioSms, sendTwilioWhatsApp, twilioSandbox } from '@comms/adapter-twilio';
import { sendWhatsApp, whatsappSandbox } from '@comms/adapter-whatsapp';
import type { WebhookRoute } from '@comms/core/inbox';
import type { Config } from '@comms/core/platform';

export interface Sender {
  send: SendFn;
  options: SendOptions;
}

/** A sender per channel, and `ses` for the email accounts whose transport is Amazon SES. */
export type Senders = Record<Channel, Sender> & { ses: Sender };

/** The sender of an account: its channel's, or SES's for an SES email account. */
export function senderOf(senders: Senders, channel: Channel, transport: string | null): Sender {
  return channel === 'email' && transport === 'ses' ? senders.ses : senders[channel];
}

export function sendersFor(config: Config): Senders {
  return {
    // An empty base URL leaves the AWS SDK to its regional endpoint.
    ses: { send: sendSes, options: { baseUrl: config.SES_API_URL ?? '' } },
    whatsapp: { send: sendWhatsApp, options: { baseUrl: config.WHATSAPP_API_URL } },
    messenger: { send: sendMessenger, options: { baseUrl: config.MESSENGER_API_URL } },
    instagram: { send: sendMessenger, options: { baseUrl: config.MESSENGER_API_URL } },
    sms: { send: sendTwilioSms, options: { baseUrl: config.TWILIO_API_URL } },
    twilio_whatsapp: { send: sendTwilioWhatsApp, options: { baseUrl: config.TWILIO_API_URL } },
    email: { send: sendSendGrid, options: { baseUrl: config.SENDGRID_API_URL } },
  };
}

/** A channel's provider in the sandbox transport (sandbox.ts), and the gateway route its status webhooks take. */
export interface SandboxProvider {
  provider: ProviderSandbox;
  route: WebhookRoute;
  /** The webhooks name no account (SendGrid's events): the URL names it, `?account=<id>`. */
  accountless?: boolean;
}

export const SANDBOX_PROVIDERS: Record<Channel, SandboxProvider> = {
  whatsapp: { provider: whatsappSandbox, route: 'whatsapp' },
  messenger: { provider: messengerSandbox, route: 'messenger' },
  instagram: { provider: messengerSandbox, route: 'messenger' },
  sms: { provider: twilioSandbox, route: 'twilio_status' },
  twilio_whatsapp: { provider: twilioSandbox, route: 'twilio_status' },
  email: { provider: sendgridSandbox, route: 'sendgrid_events', accountless: true },
};
