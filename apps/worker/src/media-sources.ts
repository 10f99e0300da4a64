/** Which adapter downloads inbound media for which channel, and from where (base URLs from config, for fakes). */
import type { Channel, FetchMediaFn, MediaFetchOptions } from '@comms/adapter-kit';
import { fetchMessengerMedia } from '@comms/adapter-messenger';
import { fetchTwilioMedia } from '@comms/adapter-twilio';
import { fetchWhatsAppMedia } from '@comms/adapter-whatsapp';
import type { Config } from '@comms/core/platform';

export interface MediaSource {
  fetch: FetchMediaFn;
  options: MediaFetchOptions;
}

/** Email has none: its attachments' bytes arrive in the mail and are stored by the gateway. */
export function mediaSourcesFor(config: Config): Partial<Record<Channel, MediaSource>> {
  return {
    whatsapp: { fetch: fetchWhatsAppMedia, options: { baseUrl: config.WHATSAPP_API_URL } },
    messenger: { fetch: fetchMessengerMedia, options: { baseUrl: config.MESSENGER_API_URL } },
    instagram: { fetch: fetchMessengerMedia, options: { baseUrl: config.MESSENGER_API_URL } },
    sms: { fetch: fetchTwilioMedia, options: { baseUrl: config.TWILIO_API_URL } },
    twilio_whatsapp: { fetch: fetchTwilioMedia, options: { baseUrl: config.TWILIO_API_URL } },
  };
}
