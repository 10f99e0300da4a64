/**
 * SendGrid webhooks → normalized events.
 * Inbound Parse (multipart, default or "POST the raw, full MIME message"):
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
 * Event Webhook (JSON array): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import { createHash } from 'node:crypto';
import {
  type InboundMessage,
  MalformedPayloadError,
  type Media,
  parseJsonBody,
  type RawRequest,
  type StatusEvent,
} from '@comms/adapter-kit';
import { simpleParser } from 'mailparser';
import { z } from 'zod';
import { messageIdList, normalizeMessageId, parseAddress, parseAddressList } from './addresses.js';

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

const KEPT_HEADERS = [
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'reply-to',
  'auto-submitted',
  'list-id',
  'precedence',
];

interface ParsedEmail {
  from: { name: string | null; address: string } | null;
  to: string[];
  cc: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  attachments: Media[];
  envelopeTo: string[];
  date: Date | null;
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

async function readEmail(req: RawRequest): Promise<ParsedEmail> {
  const form = await formOf(req);
  let envelopeTo: string[] = [];
  const envelope = text(form, 'envelope');
  if (envelope) {
    try {
      const e = JSON.parse(envelope) as { to?: string[] };
      envelopeTo = (e.to ?? []).map((a) => a.toLowerCase());
    } catch {
      throw new MalformedPayloadError('envelope is not JSON');
    }
  }
  const raw = text(form, 'email');
  if (raw) {
    // Raw mode: the whole MIME message in `email`.
    const mail = await simpleParser(raw);
    const addr = (v: typeof mail.to) =>
      (Array.isArray(v) ? v : v ? [v] : [])
        .flatMap((x) => x.value)
        .map((x) => (x.address ?? '').toLowerCase())
        .filter(Boolean);
    const headers: Record<string, string> = {};
    for (const h of KEPT_HEADERS) {
      const v = mail.headers.get(h);
      if (typeof v === 'string') headers[h] = v;
    }
    if (mail.messageId) headers['message-id'] = mail.messageId;
    if (mail.inReplyTo) headers['in-reply-to'] = mail.inReplyTo;
    const refs = Array.isArray(mail.references) ? mail.references.join(' ') : mail.references;
    if (refs) headers.references = refs;
    const fromValue = mail.from?.value[0];
    return {
      from: fromValue?.address ? { name: fromValue.name || null, address: fromValue.address.toLowerCase() } : null,
      to: addr(mail.to),
      cc: addr(mail.cc),
      subject: mail.subject ?? null,
      text: mail.text ?? null,
      html: typeof mail.html === 'string' ? mail.html : null,
      headers,
      attachments: mail.attachments.map((a) => ({
        id: a.contentId ?? null,
        url: null,
        mime_type: a.contentType,
        filename: a.filename ?? null,
        size: a.size,
        caption: null,
      })),
      envelopeTo,
      date: mail.date ?? null,
    };
  }
  // Default mode: SendGrid parsed the message into fields.
  const headers = headerMap(text(form, 'headers'));
  let attachments: Media[] = [];
  const info = text(form, 'attachment-info');
  if (info) {
    try {
      const parsed = JSON.parse(info) as Record<
        string,
        { filename?: string; name?: string; type?: string; 'content-id'?: string }
      >;
      attachments = Object.entries(parsed).map(([key, a]) => {
        const file = form.get(key);
        return {
          id: a['content-id'] ?? null,
          url: null,
          mime_type: a.type ?? (file instanceof File ? file.type : null) ?? null,
          filename: a.filename ?? a.name ?? (file instanceof File ? file.name : null),
          size: file instanceof File ? file.size : null,
          caption: null,
        };
      });
    } catch {
      throw new MalformedPayloadError('attachment-info is not JSON');
    }
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
    date: date && !Number.isNaN(date.getTime()) ? date : null,
  };
}

/** The inbound addresses the email was sent to (envelope first, then To and Cc). */
export async function sendgridInboundIdentifiers(req: RawRequest): Promise<string[]> {
  const mail = await readEmail(req);
  return [...new Set([...mail.envelopeTo, ...mail.to, ...mail.cc])];
}

/** One customer email. Its external id is the Message-ID (or, without one, a hash of the body, so redelivery dedupes). */
export async function parseSendGridInbound(req: RawRequest): Promise<InboundMessage[]> {
  const mail = await readEmail(req);
  if (!mail.from) throw new MalformedPayloadError('the email has no sender address');
  const recipients = [...new Set([...mail.envelopeTo, ...mail.to, ...mail.cc])];
  const messageId = mail.headers['message-id'] ? normalizeMessageId(mail.headers['message-id']) : null;
  const inReplyTo = mail.headers['in-reply-to'] ? normalizeMessageId(mail.headers['in-reply-to']) : null;
  const references = messageIdList(mail.headers.references);
  const external = messageId ?? `sha256:${createHash('sha256').update(req.body).digest('hex')}`;
  // One event per recipient account: the gateway stores it under the account it verified.
  return recipients.map((account) => ({
    kind: 'message' as const,
    channel: 'email' as const,
    account_identifier: account,
    external_id: external,
    sender_identifier: mail.from!.address,
    sender_name: mail.from!.name,
    timestamp: mail.date ?? new Date(),
    type: 'text' as const,
    text: mail.text ?? (mail.html ? htmlToText(mail.html) : null),
    media: mail.attachments,
    location: null,
    email: {
      subject: mail.subject,
      message_id: messageId,
      in_reply_to: inReplyTo,
      references,
      from: mail.from!.address,
      to: mail.to,
      cc: mail.cc,
      html: mail.html,
      headers: mail.headers,
    },
    reply_to_external_id: inReplyTo,
    extra: {},
  }));
}

const SgEvent = z
  .object({
    event: z.string(),
    email: z.string().optional(),
    timestamp: z.number(),
    sg_event_id: z.string().optional(),
    sg_message_id: z.string().optional(),
    reason: z.string().optional(),
    status: z.string().optional(),
    response: z.string().optional(),
  })
  .passthrough();

/**
 * `processed` is SendGrid accepting the message (we are `sent` once its API answered), `deferred` is a
 * temporary failure it retries itself: neither changes our status. `open` is the closest email has to "read".
 */
const STATUS: Record<string, StatusEvent['status'] | undefined> = {
  delivered: 'delivered',
  open: 'read',
  bounce: 'failed',
  dropped: 'failed',
};

/** Every event of the batch that maps to a delivery status. */
export function parseSendGridEvents(req: RawRequest): StatusEvent[] {
  const parsed = z.array(SgEvent).safeParse(parseJsonBody(req));
  if (!parsed.success)
    throw new MalformedPayloadError(`not a SendGrid event batch: ${parsed.error.issues[0]?.message}`);
  const out: StatusEvent[] = [];
  for (const e of parsed.data) {
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
      timestamp: new Date(e.timestamp * 1000),
      error: status === 'failed' ? { code: e.event, message: e.reason ?? e.response ?? e.status ?? e.event } : null,
    });
  }
  return out;
}
