/**
 * Inbound media from the WhatsApp Cloud API, in the two documented steps:
 * `GET /{media-id}` with the account's token answers `{url, mime_type, sha256, file_size, id}`; the `url` (valid
 * for five minutes) is then fetched with the same token.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#retrieve-media-url
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media
 */
import { type FetchMediaFn, ProviderError } from '@comms/adapter-kit';
import { graphError, httpSend, streamDownload } from '@comms/adapter-meta-graph';

export const fetchWhatsAppMedia: FetchMediaFn = async (source, credentials, options) => {
  const token = credentials.access_token;
  if (!token) throw new ProviderError('no_credentials', 'the account has no access_token', false);
  if (!source.provider_id || !/^[\w.-]{1,256}$/.test(source.provider_id))
    throw new ProviderError('no_media_id', 'the item names no WhatsApp media id', false);
  const auth = { authorization: `Bearer ${token}` };
  let meta: { url?: unknown; mime_type?: unknown; file_size?: unknown };
  try {
    const res = await httpSend(`${options.baseUrl.replace(/\/$/, '')}/${source.provider_id}`, {
      method: 'GET',
      headers: auth,
      signal: options.signal ?? null,
    });
    if (!res.ok) throw await graphError(res);
    meta = (await res.json()) as typeof meta;
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError('network', err instanceof Error ? err.message : String(err), true, { cause: err });
  }
  if (typeof meta.url !== 'string') throw new ProviderError('no_media_url', 'the Graph API gave no media URL', false);
  const download = await streamDownload(meta.url, auth, 'the WhatsApp media URL', options.signal);
  const declared = Number(meta.file_size);
  return {
    ...download,
    mime_type: typeof meta.mime_type === 'string' ? meta.mime_type : download.mime_type,
    size: download.size ?? (Number.isSafeInteger(declared) ? declared : null),
  };
};
