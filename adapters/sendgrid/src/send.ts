/**
 * Replies through @sendgrid/mail (v3 mail/send), threaded into the customer's conversation.
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
import {
  type Credentials,
  type OutboundMessage,
  ProviderError,
  type SendOptions,
  type SendResult,
} from '@comms/adapter-kit';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';

const bracket = (id: string) => (id.startsWith('<') ? id : `<${id}>`);

function classify(err: unknown): ProviderError {
  const e = err as { code?: number; message?: string; response?: { body?: { errors?: { message?: string }[] } } };
  if (typeof e.code === 'number' && e.code >= 100) {
    const message = e.response?.body?.errors?.[0]?.message ?? e.message ?? 'SendGrid refused the message';
    return new ProviderError(String(e.code), message, e.code >= 500 || e.code === 429, { cause: err });
  }
  return new ProviderError('network', e.message ?? String(err), true, { cause: err });
}

/** Sends one email reply; returns SendGrid's X-Message-Id. */
export async function sendSendGrid(
  message: OutboundMessage,
  credentials: Credentials,
  options: SendOptions,
): Promise<SendResult> {
  const apiKey = credentials.api_key;
  const from = credentials.from_email ?? message.from;
  if (!apiKey) throw new ProviderError('no_credentials', 'the email account has no api_key', false);
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', options.baseUrl.replace(/\/$/, ''));
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(15_000);
  const headers: Record<string, string> = {};
  // The customer's mail client keeps the thread when the reply names what it answers.
  if (message.in_reply_to) headers['In-Reply-To'] = bracket(message.in_reply_to);
  if (message.references.length) headers.References = message.references.map(bracket).join(' ');
  const text = message.text ?? '';
  const files = message.attachments ?? [];
  try {
    const [response] = await mail.send({
      to: message.to,
      from,
      subject: message.subject ?? 'Re: your message',
      // Files go as attachments; a bare media_url (a link the agent gave) stays a link in the text.
      text: message.media_url && !files.length ? `${text}\n\n${message.media_url}`.trim() : text,
      headers,
      ...(files.length
        ? {
            attachments: files.map((a) => ({
              filename: a.filename,
              type: a.type,
              content: a.content_base64,
              disposition: 'attachment',
            })),
          }
        : {}),
      customArgs: { tenant: message.tenant, message_id: String(message.message_id) },
    });
    const id = response.headers['x-message-id'];
    const value = Array.isArray(id) ? id[0] : id;
    if (!value) throw new ProviderError('bad_response', 'SendGrid answered without X-Message-Id', true);
    return { provider_message_id: String(value) };
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw classify(err);
  }
}
