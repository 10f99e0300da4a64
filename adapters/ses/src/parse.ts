/**
 * The SES messages SNS carries → normalized events.
 * - Inbound mail (receipt rule with an SNS action, or an S3 action that notifies SNS):
 *   https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 *   https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-sns.html
 *   https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-s3.html
 * - Sending events (a configuration set's SNS event destination):
 *   https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 *   (and the older identity notifications, which name the type `notificationType`:
 *   https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html)
 */
import { emailMessages, readMime, recipientsOf } from '@comms/adapter-email';
import {
  type Credentials,
  type InboundMessage,
  MalformedPayloadError,
  readWire,
  ShortText,
  type StatusEvent,
  type StatusNote,
  UpstreamUnavailableError,
} from '@comms/adapter-kit';
import { z } from 'zod';
import type { SnsMessage } from './sns.js';

const Address = z.string().max(320);
const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const Mail = z.object({
  timestamp: Time,
  messageId: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'an SES message id'),
  source: ShortText(1024).optional(),
  destination: z.array(Address).max(1000).optional(),
});

const Receipt = z.object({
  recipients: z.array(Address).max(1000),
  action: z.discriminatedUnion('type', [
    z.object({ type: z.literal('SNS'), encoding: z.enum(['UTF8', 'BASE64']).optional() }),
    z.object({
      type: z.literal('S3'),
      bucketName: z.string().min(3).max(63),
      objectKey: z.string().min(1).max(1024),
    }),
  ]),
});

const Received = z.object({
  notificationType: z.literal('Received'),
  mail: Mail,
  receipt: Receipt,
  content: z.string().optional(),
});

const Recipient = z.object({ emailAddress: Address, diagnosticCode: ShortText(4096).optional() });

/** Event publishing names it `eventType`; identity notifications `notificationType`. */
const SendingEvent = z.object({
  eventType: z.string().max(64).optional(),
  notificationType: z.string().max(64).optional(),
  mail: Mail,
  bounce: z
    .object({
      bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
      bounceSubType: ShortText(64),
      bouncedRecipients: z.array(Recipient).max(1000).default([]),
      timestamp: Time.optional(),
    })
    .optional(),
  complaint: z
    .object({
      complaintFeedbackType: ShortText(64).optional(),
      complaintSubType: ShortText(64).nullish(),
      complainedRecipients: z.array(Recipient).max(1000).default([]),
      timestamp: Time.optional(),
    })
    .optional(),
  delivery: z.object({ timestamp: Time.optional(), recipients: z.array(Address).max(1000).optional() }).optional(),
  open: z.object({ timestamp: Time.optional() }).optional(),
  reject: z.object({ reason: ShortText(4096).optional() }).optional(),
  failure: z.object({ errorMessage: ShortText(4096).optional(), templateName: ShortText().optional() }).optional(),
  deliveryDelay: z
    .object({
      timestamp: Time.optional(),
      delayType: ShortText(64).optional(),
      delayedRecipients: z.array(Recipient.partial()).max(1000).default([]),
    })
    .optional(),
});

/** How the adapter reads an S3 object (the S3 receipt action's mail): its bytes. */
export type S3Fetch = (
  location: { bucket: string; key: string; region: string },
  credentials: Credentials,
) => Promise<Buffer>;

/** The region of an SNS topic ARN (`arn:aws:sns:<region>:<account>:<name>`). */
export const regionOfArn = (arn: string) => arn.split(':')[3] ?? 'us-east-1';

function messageJson(sns: SnsMessage): unknown {
  try {
    return JSON.parse(sns.Message);
  } catch {
    throw new MalformedPayloadError('the SNS Message is not JSON', {
      issues: [{ field: 'Message', message: 'JSON of an SES notification' }],
    });
  }
}

/** Inbound mail: the MIME message from `content` (UTF8 or BASE64), or from the S3 object the receipt names. */
async function receivedMail(
  raw: Uint8Array,
  json: unknown,
  s3: { fetch: S3Fetch; credentials: Credentials; region: string },
): Promise<InboundMessage[]> {
  const n = readWire(Received, json, 'not an SES inbound mail notification', ['Message']);
  let mime: string | Buffer;
  if (n.receipt.action.type === 'S3') {
    const { bucketName, objectKey } = n.receipt.action;
    try {
      mime = await s3.fetch({ bucket: bucketName, key: objectKey, region: s3.region }, s3.credentials);
    } catch (err) {
      // Not malformed: S3 may be away for a moment; the gateway answers 503 and SNS redelivers.
      throw new UpstreamUnavailableError(
        `the mail's S3 object could not be read: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  } else {
    if (n.content === undefined)
      throw new MalformedPayloadError('an SNS receipt action without content', {
        issues: [{ field: 'Message.content', message: 'the MIME message' }],
      });
    mime = n.receipt.action.encoding === 'BASE64' ? Buffer.from(n.content, 'base64') : n.content;
  }
  const mail = await readMime(mime, 'Message.content', { to: n.receipt.recipients });
  return emailMessages(mail, {
    // One event: the gateway stores it under the account whose topic and signature it proved.
    accounts: recipientsOf(mail).slice(0, 1),
    body: raw,
    where: (header) => `Message.content.${header}`,
    what: 'SES inbound mail',
  });
}

/** Bounce, complaint and delay details, kept as the provider said them. */
const recipientsText = (list: { emailAddress?: string | undefined; diagnosticCode?: string | undefined }[]) =>
  list
    .map((r) => r.diagnosticCode ?? '')
    .filter(Boolean)
    .join('; ');

function statusOf(e: z.infer<typeof SendingEvent>, type: string): Omit<StatusEvent, 'kind' | 'channel'> | null {
  const base = {
    account_identifier: '',
    external_id: e.mail.messageId,
    watermark: null,
    recipient_identifier: e.mail.destination?.[0]?.toLowerCase() ?? null,
    timestamp: e.mail.timestamp,
    error: null,
    note: null,
  };
  const note = (kind: StatusNote['kind'], detail: string, at?: Date) => ({
    ...base,
    status: 'sent' as const,
    timestamp: at ?? base.timestamp,
    note: { kind, detail: detail.slice(0, 4096) },
  });
  switch (type) {
    case 'Send':
      return { ...base, status: 'sent' };
    case 'Delivery':
      return { ...base, status: 'delivered', timestamp: e.delivery?.timestamp ?? base.timestamp };
    case 'Open':
      return { ...base, status: 'read', timestamp: e.open?.timestamp ?? base.timestamp };
    case 'Bounce': {
      const b = e.bounce;
      if (!b) return null;
      const diagnostic = recipientsText(b.bouncedRecipients);
      const detail = `${b.bounceType}/${b.bounceSubType}${diagnostic ? `: ${diagnostic}` : ''}`;
      // Only a permanent bounce fails the message: SES retries transient ones itself.
      if (b.bounceType !== 'Permanent') return note('transient_bounce', detail, b.timestamp);
      return {
        ...base,
        status: 'failed',
        timestamp: b.timestamp ?? base.timestamp,
        error: { code: 'bounce_permanent', message: detail.slice(0, 4096) },
      };
    }
    case 'Complaint': {
      const c = e.complaint;
      return note(
        'complaint',
        [c?.complaintFeedbackType ?? 'complaint', c?.complaintSubType].filter(Boolean).join('/'),
        c?.timestamp,
      );
    }
    case 'DeliveryDelay': {
      const d = e.deliveryDelay;
      return note(
        'delivery_delay',
        [d?.delayType ?? 'delay', recipientsText(d?.delayedRecipients ?? [])].filter(Boolean).join(': '),
        d?.timestamp,
      );
    }
    case 'Reject':
      return { ...base, status: 'failed', error: { code: 'reject', message: e.reject?.reason ?? 'rejected by SES' } };
    case 'Rendering Failure':
      return {
        ...base,
        status: 'failed',
        error: { code: 'rendering_failure', message: e.failure?.errorMessage ?? 'the template could not be rendered' },
      };
    default:
      // Click, Subscription: nothing of ours changes.
      return null;
  }
}

/** One SNS Notification's events: inbound mail, or one sending event. Throws MalformedPayloadError. */
export async function parseSesNotification(
  sns: SnsMessage,
  raw: Uint8Array,
  s3: { fetch: S3Fetch; credentials: Credentials; region: string },
): Promise<(InboundMessage | StatusEvent)[]> {
  const json = messageJson(sns);
  const kind = (json as { notificationType?: unknown } | null)?.notificationType;
  if (kind === 'Received') return receivedMail(raw, json, s3);
  const e = readWire(SendingEvent, json, 'not an SES notification', ['Message']);
  const type = e.eventType ?? e.notificationType;
  if (!type)
    throw new MalformedPayloadError('an SES notification without eventType', {
      issues: [{ field: 'Message.eventType', message: 'the event type' }],
    });
  const status = statusOf(e, type);
  return status ? [{ kind: 'status', channel: 'email', ...status }] : [];
}
