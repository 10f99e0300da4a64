/**
 * Replies through the Send API: POST {base}/me/messages with the page access token.
 * https://developers.facebook.com/docs/messenger-platform/reference/send-api/
 * Instagram uses the same endpoint and shape through the linked page:
 * https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message
 */
import {
  type Credentials,
  type OutboundMessage,
  ProviderError,
  type SendOptions,
  type SendResult,
} from '@comms/adapter-kit';
import { graphError, postGraph } from '@comms/adapter-meta-graph';

const ATTACHMENT: Record<string, string> = { image: 'image', video: 'video', audio: 'audio', document: 'file' };

/** Sends one message as a RESPONSE within the standard messaging window; returns the mid. */
export async function sendMessenger(
  message: OutboundMessage,
  credentials: Credentials,
  options: SendOptions,
): Promise<SendResult> {
  const token = credentials.page_access_token;
  if (!token) throw new ProviderError('no_credentials', 'the account has no page_access_token', false);
  let body: Record<string, unknown>;
  if (message.type === 'text') body = { text: message.text ?? '' };
  else if (ATTACHMENT[message.type] && message.media_url)
    body = { attachment: { type: ATTACHMENT[message.type], payload: { url: message.media_url, is_reusable: false } } };
  else throw new ProviderError('unsupported', `cannot send a ${message.type} message here`, false);
  const res = await postGraph(
    `${options.baseUrl.replace(/\/$/, '')}/me/messages`,
    { recipient: { id: message.to }, messaging_type: 'RESPONSE', message: body },
    // The Graph API takes the token as a Bearer header as well as ?access_token=; the header keeps it out of URLs and logs.
    { authorization: `Bearer ${token}` },
    options.signal,
  );
  if (!res.ok) throw await graphError(res);
  const out = (await res.json()) as { message_id?: string };
  if (!out.message_id) throw new ProviderError('bad_response', 'the Send API answered without message_id', true);
  return { provider_message_id: out.message_id };
}
