/** Which adapter sends for which channel, and where: base URLs come from config so tests can use fakes. */
import type { Channel, SendFn, SendOptions } from '@comms/adapter-kit';
import { sendMessenger } from '@comms/adapter-messenger';
import { sendSendGrid } from '@comms/adapter-sendgrid';
import { sendTwilioSms, sendTwilioWhatsApp } from '@comms/adapter-twilio';
import { sendWhatsApp } from '@comms/adapter-whatsapp';
import type { Config } from '@comms/core/platform';

export interface Sender {
  send: SendFn;
  options: SendOptions;
}

export function sendersFor(config: Config): Record<Channel, Sender> {
  return {
    whatsapp: { send: sendWhatsApp, options: { baseUrl: config.WHATSAPP_API_URL } },
    messenger: { send: sendMessenger, options: { baseUrl: config.MESSENGER_API_URL } },
    instagram: { send: sendMessenger, options: { baseUrl: config.MESSENGER_API_URL } },
    sms: { send: sendTwilioSms, options: { baseUrl: config.TWILIO_API_URL } },
    twilio_whatsapp: { send: sendTwilioWhatsApp, options: { baseUrl: config.TWILIO_API_URL } },
    email: { send: sendSendGrid, options: { baseUrl: config.SENDGRID_API_URL } },
  };
}
