/**
 * Inbound MMS media: `MediaUrl{N}` under api.twilio.com, fetched with HTTP basic auth of the account SID and auth
 * token (required when "HTTP Basic Authentication for media access" is on), after which Twilio redirects to a
 * short-lived signed URL of its storage; the redirect is followed (fetch drops the credentials when it leaves
 * Twilio's origin). https://www.twilio.com/docs/messaging/api/media-resource#fetch-a-media-resource
 * The URL's origin is replaced by the configured TWILIO_API_URL, the same override sends use, so tests reach a
 * fake Twilio on loopback.
 */
import { downloadError, type FetchMediaFn, ProviderError } from '@comms/adapter-kit';

const TWILIO_API = 'https://api.twilio.com';

export const fetchTwilioMedia: FetchMediaFn = async (source, credentials, options) => {
  const { account_sid: sid, auth_token: token } = credentials;
  if (!sid || !token) throw new ProviderError('no_credentials', 'the account has no account_sid and auth_token', false);
  if (!source.provider_url) throw new ProviderError('no_media_url', 'the item has no MediaUrl', false);
  const target = new URL(source.provider_url);
  const url =
    target.origin === TWILIO_API
      ? `${options.baseUrl.replace(/\/$/, '')}${target.pathname}${target.search}`
      : source.provider_url;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}` },
      redirect: 'follow',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    throw new ProviderError('network', err instanceof Error ? err.message : String(err), true, { cause: err });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw downloadError(res.status, 'the Twilio media URL');
  }
  const body = res.body;
  const length = res.headers.get('content-length');
  return {
    body: body as unknown as AsyncIterable<Uint8Array>,
    mime_type: res.headers.get('content-type'),
    size: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    cancel: () => body.cancel().catch(() => {}),
  };
};
