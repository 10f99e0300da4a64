/**
 * Replies through Amazon SES, API v2 SendEmail (@aws-sdk/client-sesv2), threaded into the customer's conversation.
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
 * Errors: https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html and SendEmail's Errors section.
 */
import {
  type Credentials,
  type OutboundMessage,
  ProviderError,
  type SendOptions,
  type SendResult,
} from '@comms/adapter-kit';
import { awsCredentials, keptClients } from './aws.js';
import { SesSettings } from './settings.js';

const bracket = (id: string) => (id.startsWith('<') ? id : `<${id}>`);

/** Throttling: SES asks to slow down; it is retried with the worker's backoff. */
const THROTTLED = new Set(['TooManyRequestsException', 'Throttling', 'ThrottlingException']);

function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) {
    const code = e.name && e.name !== 'Error' ? e.name : String(status);
    const transient = THROTTLED.has(code) || status === 429 || status >= 500 || e.$fault === 'server';
    // MessageRejected, MailFromDomainNotVerifiedException, AccountSuspendedException, SendingPausedException,
    // BadRequestException, NotFoundException…: SES will not take this message; a retry would not change that.
    return new ProviderError(code.slice(0, 64), e.message || code, transient, { cause: err });
  }
  if (e.name === 'AbortError' || e.name === 'TimeoutError')
    return new ProviderError('timeout', 'SES did not answer in time', true, { cause: err });
  return new ProviderError('network', e.message ?? String(err), true, { cause: err });
}

// The SDK is loaded on the first SES send: it is large, and processes without an SES account never pay for it.
const sesClient = keptClients(
  () => import('@aws-sdk/client-sesv2'),
  (sdk, t) =>
    new sdk.SESv2Client({
      region: t.region,
      ...(t.endpoint ? { endpoint: t.endpoint } : {}),
      maxAttempts: 1, // the worker retries, with its own backoff
      ...(awsCredentials(t.credentials) ? { credentials: awsCredentials(t.credentials) } : {}),
    }),
);

/** Sends one email reply; returns SES's MessageId, which its sending events name as `mail.messageId`. */
export async function sendSes(
  message: OutboundMessage,
  credentials: Credentials,
  options: SendOptions,
): Promise<SendResult> {
  const parsed = SesSettings.pick({ region: true, from_email: true, configuration_set: true }).safeParse(
    options.settings ?? {},
  );
  if (!parsed.success) throw new ProviderError('bad_settings', 'the account has no valid SES settings', false);
  const settings = parsed.data;
  const { sdk, client, release } = await sesClient({
    region: settings.region,
    endpoint: options.baseUrl,
    credentials,
  });
  const headers: { Name: string; Value: string }[] = [];
  // The customer's mail client keeps the thread when the reply names what it answers.
  if (message.in_reply_to) headers.push({ Name: 'In-Reply-To', Value: bracket(message.in_reply_to) });
  if (message.references.length) headers.push({ Name: 'References', Value: message.references.map(bracket).join(' ') });
  const text = message.text ?? '';
  // Files go as real attachments (SESv2 Simple content builds the MIME); a bare media_url stays a link in the text.
  const files = message.attachments ?? [];
  try {
    const out = await client.send(
      new sdk.SendEmailCommand({
        FromEmailAddress: settings.from_email ?? message.from,
        Destination: { ToAddresses: [message.to] },
        // The customer's answer goes to the inbound address, where the receipt rule takes it back to us.
        ReplyToAddresses: [message.from],
        ...(settings.configuration_set ? { ConfigurationSetName: settings.configuration_set } : {}),
        EmailTags: [
          { Name: 'tenant', Value: message.tenant },
          { Name: 'message_id', Value: String(message.message_id) },
        ],
        Content: {
          Simple: {
            Subject: { Data: message.subject ?? 'Re: your message', Charset: 'UTF-8' },
            Body: {
              Text: { Data: message.media_url ? `${text}\n\n${message.media_url}`.trim() : text, Charset: 'UTF-8' },
            },
            ...(headers.length ? { Headers: headers } : {}),
            ...(files.length
              ? {
                  Attachments: files.map((a) => ({
                    FileName: a.filename,
                    ContentType: a.type,
                    ContentDisposition: 'ATTACHMENT' as const,
                    RawContent: Buffer.from(a.content_base64, 'base64'),
                  })),
                }
              : {}),
          },
        },
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    if (!out.MessageId) throw new ProviderError('bad_response', 'SES answered without a MessageId', true);
    return { provider_message_id: out.MessageId };
  } catch (err) {
    throw classify(err);
  } finally {
    release();
  }
}
