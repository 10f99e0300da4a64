/**
 * SendGrid webhooks → normalized events.
 * Inbound Parse (multipart, default or "POST the raw, full MIME message"):
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
 * Event Webhook (JSON array): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import {
  dateOf,
  emailMessages,
  KEPT_HEADERS,
  MAX_ADDRESS,
  type ParsedEmail,
  parseAddress,
  parseAddressList,
  readMime,
  recipientsOf,
} from '@comms/adapter-email';
import {
  type InboundMessage,
  issuesOf,
  MalformedPayloadError,
  type Media,
  MimeType,
  type PayloadIssue,
  ProviderId,
  parseJsonBody,
  type RawRequest,
  readWire,
  ShortText,
  type StatusEvent,
  UnixSeconds,
} from '@comms/adapter-kit';
import { z } from 'zod';

/*
 * Every value read is validated (issue 21 point 2): the Event Webhook's as SendGrid documents them (event names,
 * integer Unix seconds, bounded ids); Inbound Parse's envelope and attachment-info as the JSON SendGrid describes,
 * addresses and Message-IDs as RFC 5322 bounds them (an address of at most 320 characters, a line of at most 998).
 * A signed webhook with a value outside them is malformed (400), never a failed insert (503).
 */

const Address = z.string().max(MAX_ADDRESS, `an address of at most ${MAX_ADDRESS} characters`);

/** The `envelope` field: JSON of the SMTP envelope. */
const Envelope = z.object({ to: z.array(Address).max(1000).optional(), from: Address.nullish() });

/** The `attachment-info` field: JSON, one entry per attachment field (`attachment1`, …). */
const AttachmentInfo = z.record(
  z.string().max(64),
  z.object({
    filename: ShortText().optional(),
    name: ShortText().optional(),
    type: MimeType.optional(),
    'content-id': ShortText().optional(),
  }),
);

/** A JSON form field, or an issue naming it. */
function jsonField<S extends z.ZodType>(value: string, schema: S, field: string, issues: PayloadIssue[]) {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    issues.push({ field, message: 'JSON' });
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data as z.output<S>;
  issues.push(...issuesOf(parsed.error, [field]));
  return undefined;
}

async function formOf(req: RawRequest): Promise<FormData> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data'))
    throw new MalformedPayloadError('Inbound Parse posts multipart/form-data');
  try {
    return await new Response(req.body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new MalformedPayloadError('the multipart body could not be parsed');
  }
}

const text = (form: FormData, name: string): string | null => {
  const v = form.get(name);
  return typeof v === 'string' ? v : null;
};

/** Header block → lower-cased name → value (folded lines joined; first occurrence wins). */
function headerMap(block: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!block) return out;
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!(name in out)) out[name] = line.slice(i + 1).trim();
  }
  return out;
}

async function readEmail(req: RawRequest): Promise<ParsedEmail> {
  const form = await formOf(req);
  const issues: PayloadIssue[] = [];
  let envelopeTo: string[] = [];
  const envelope = text(form, 'envelope');
  if (envelope) envelopeTo = (jsonField(envelope, Envelope, 'envelope', issues)?.to ?? []).map((a) => a.toLowerCase());
  const raw = text(form, 'email');
  // Raw mode: the whole MIME message in `email`.
  if (raw) return readMime(raw, 'email', { to: envelopeTo, issues });
  // Default mode: SendGrid parsed the message into fields.
  const headers = headerMap(text(form, 'headers'));
  let attachments: Media[] = [];
  const info = text(form, 'attachment-info');
  const parsedInfo = info ? jsonField(info, AttachmentInfo, 'attachment-info', issues) : undefined;
  if (parsedInfo) {
    attachments = await Promise.all(
      Object.entries(parsedInfo).map(async ([key, a]) => {
        const file = form.get(key);
        return {
          id: a['content-id'] ?? null,
          url: null,
          mime_type: a.type ?? (file instanceof File && file.type ? file.type : null),
          filename: a.filename ?? a.name ?? (file instanceof File ? file.name : null),
          size: file instanceof File ? file.size : null,
          caption: null,
          // The bytes are in the post itself: stored as they are, never fetched (issue 14).
          ...(file instanceof File ? { content: new Uint8Array(await file.arrayBuffer()) } : {}),
        };
      }),
    );
  }
  const kept: Record<string, string> = {};
  for (const h of KEPT_HEADERS) if (headers[h]) kept[h] = headers[h]!;
  const date = headers.date ? new Date(headers.date) : null;
  return {
    from: parseAddress(text(form, 'from') ?? headers.from ?? ''),
    to: parseAddressList(text(form, 'to') ?? headers.to).map((a) => a.address),
    cc: parseAddressList(text(form, 'cc') ?? headers.cc).map((a) => a.address),
    subject: text(form, 'subject') ?? headers.subject ?? null,
    text: text(form, 'text'),
    html: text(form, 'html'),
    headers: kept,
    attachments,
    envelopeTo,
    date: dateOf(date),
    raw: false,
    issues,
  };
}

/** The inbound addresses the email was sent to (envelope first, then To and Cc). */
export async function sendgridInboundIdentifiers(req: RawRequest): Promise<string[]> {
  return recipientsOf(await readEmail(req));
}

/** One customer email. Its external id is the Message-ID (or, without one, a hash of the body, so redelivery dedupes). */
export async function parseSendGridInbound(req: RawRequest): Promise<InboundMessage[]> {
  const mail = await readEmail(req);
  return emailMessages(mail, {
    accounts: recipientsOf(mail),
    body: req.body,
    where: (header) => (header === 'from' ? 'from' : `${mail.raw ? 'email' : 'headers'}.${header}`),
    what: 'Inbound Parse email',
  });
}

/** The events SendGrid documents (delivery, engagement and account events). */
const SgEventName = z.enum([
  'processed',
  'dropped',
  'delivered',
  'deferred',
  'bounce',
  'open',
  'click',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
  'account_status_change',
]);

const SgEvent = z.object({
  event: SgEventName,
  email: Address.optional(),
  timestamp: UnixSeconds,
  sg_event_id: ProviderId(256).optional(),
  sg_message_id: ProviderId(256).optional(),
  reason: ShortText(4096).optional(),
  status: ShortText(64).optional(),
  response: ShortText(4096).optional(),
});

/**
 * `processed` is SendGrid accepting the message (we are `sent` once its API answered), `deferred` is a
 * temporary failure it retries itself: neither changes our status. `open` is the closest email has to "read".
 */
const STATUS: Partial<Record<z.infer<typeof SgEventName>, StatusEvent['status']>> = {
  delivered: 'delivered',
  open: 'read',
  bounce: 'failed',
  dropped: 'failed',
};

/** Every event of the batch that maps to a delivery status. */
export function parseSendGridEvents(req: RawRequest): StatusEvent[] {
  const events = readWire(z.array(SgEvent), parseJsonBody(req), 'not a SendGrid event batch');
  const out: StatusEvent[] = [];
  for (const e of events) {
    const status = STATUS[e.event];
    if (!status || !e.sg_message_id) continue;
    out.push({
      kind: 'status',
      channel: 'email',
      account_identifier: '',
      // The send's X-Message-Id is the part of sg_message_id before the first dot.
      external_id: e.sg_message_id.split('.')[0]!,
      watermark: null,
      recipient_identifier: e.email?.toLowerCase() ?? null,
      status,
      timestamp: e.timestamp,
      error: status === 'failed' ? { code: e.event, message: e.reason ?? e.response ?? e.status ?? e.event } : null,
    });
  }
  return out;
}
