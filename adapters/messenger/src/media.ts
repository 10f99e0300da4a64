/**
 * Inbound Messenger and Instagram attachments: the webhook's `payload.url` is a CDN link that needs no token.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 */
import { type FetchMediaFn, ProviderError } from '@comms/adapter-kit';
import { streamDownload } from '@comms/adapter-meta-graph';

export const fetchMessengerMedia: FetchMediaFn = async (source, _credentials, options) => {
  if (!source.provider_url) throw new ProviderError('no_media_url', 'the attachment has no payload.url', false);
  return streamDownload(source.provider_url, {}, 'the attachment URL', options.signal);
};
