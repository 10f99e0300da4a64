/**
 * Replies through the Cloud API: POST {base}/{phone_number_id}/messages.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
import {
  type Credentials,
  type OutboundMessage,
  ProviderError,
  type SendOptions,
  type SendResult,
} from '@comms/adapter-kit';
import { graphError, postGraph } from '@comms/adapter-meta-graph';

function content(m: OutboundMessage): Record<string, unknown> {
  if (m.template)
    return {
      type: 'template',
      template: { name: m.template.name, language: { code: m.template.language }, components: m.template.components },
    };
  if (m.type === 'text') return { type: 'text', text: { body: m.text ?? '', preview_url: false } };
  if (m.type === 'location') throw new ProviderError('unsupported', 'sending a location is not supported', false);
  if (!m.media_url) throw new ProviderError('invalid_message', `a ${m.type} message needs media_url`, false);
  // Media by link; captions are not allowed on audio.
  const media: Record<string, unknown> = { link: m.media_url };
  if (m.text && m.type !== 'audio') media.caption = m.text;
  return { type: m.type, [m.type]: media };
}

/** Sends one message; returns the wamid. Throws ProviderError (transient or permanent). */
export async function sendWhatsApp(
  message: OutboundMessage,
  credentials: Credentials,
  options: SendOptions,
): Promise<SendResult> {
  const token = credentials.access_token;
  if (!token) throw new ProviderError('no_credentials', 'the WhatsApp account has no access_token', false);
  const res = await postGraph(
    `${options.baseUrl.replace(/\/$/, '')}/${encodeURIComponent(message.from)}/messages`,
    { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.to, ...content(message) },
    { authorization: `Bearer ${token}` },
    options.signal,
  );
  if (!res.ok) throw await graphError(res);
  const body = (await res.json()) as { messages?: { id?: string }[] };
  const id = body.messages?.[0]?.id;
  if (!id) throw new ProviderError('bad_response', 'the Cloud API answered without messages[0].id', true);
  return { provider_message_id: id };
}
