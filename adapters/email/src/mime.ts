/**
 * A raw MIME message (RFC 5322) read with mailparser, and the email fields both transports keep: SendGrid's Inbound
 * Parse in raw mode and Amazon SES's receipt notifications carry the same bytes.
 */
import { isPlausibleTime, MalformedPayloadError, type Media, type PayloadIssue } from '@comms/adapter-kit';
import type { simpleParser } from 'mailparser';

/** The headers worth keeping on a stored email, lower-cased names. */
export const KEPT_HEADERS = [
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'reply-to',
  'auto-submitted',
  'list-id',
  'precedence',
];

/** One email, read from whichever form the transport posts it in. */
export interface ParsedEmail {
  from: { name: string | null; address: string } | null;
  to: string[];
  cc: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  attachments: Media[];
  /** The SMTP envelope's recipients, when the transport says (they include Bcc). */
  envelopeTo: string[];
  date: Date | null;
  /** The whole MIME message came as one field (`email` for SendGrid's raw mode, `content` for SES). */
  raw: boolean;
  /** What is wrong with its values; the account identifiers are read regardless, parse refuses the email. */
  issues: PayloadIssue[];
}

export function htmlToText(html: string): string {
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

/**
 * The Date header, when it is a plausible time; else null, and the email is dated when it is received. The sender's
 * mail client writes it, not the transport: a customer's email with a wrong clock is still the customer's email.
 */
export function dateOf(date: Date | null | undefined): Date | null {
  return date && isPlausibleTime(date) ? date : null;
}

// Loaded on the first email: mailparser costs a process about 20 MB, and the worker (which sends email but never
// reads one) imports this package too. Kept once loaded: an import() per email went through module resolution again
// each time, and cost more than the parse.
let mailparser: Promise<typeof import('mailparser')> | undefined;

/**
 * What mailparser is asked to make: the text of an HTML-only mail (html-to-text keeps its links), but not the HTML of a
 * text mail nor links found in it (`textAsHtml`), which nothing here reads.
 */
const PARSE_OPTIONS = { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true };

/**
 * A whole MIME message → ParsedEmail. `field` names where it came from, for the refusal of one that is not MIME.
 * Throws MalformedPayloadError.
 */
export async function readMime(
  source: string | Buffer,
  field: string,
  envelope: { to: string[]; issues?: PayloadIssue[] } = { to: [] },
): Promise<ParsedEmail> {
  mailparser ??= import('mailparser');
  const { simpleParser: parse } = await mailparser;
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await parse(source, PARSE_OPTIONS);
  } catch {
    throw new MalformedPayloadError(`the ${field} field is not a MIME message`, {
      issues: [{ field, message: 'a MIME message' }],
    });
  }
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
      content: new Uint8Array(a.content.buffer, a.content.byteOffset, a.content.byteLength),
    })),
    envelopeTo: envelope.to.map((a) => a.toLowerCase()),
    date: dateOf(mail.date),
    raw: true,
    issues: [...(envelope.issues ?? [])],
  };
}
