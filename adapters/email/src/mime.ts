/**
 * A raw MIME message (RFC 5322) read with postal-mime, and the email fields both transports keep: SendGrid's Inbound
 * Parse in raw mode and Amazon SES's receipt notifications carry the same bytes.
 */
import { isPlausibleTime, MalformedPayloadError, type Media, type PayloadIssue } from '@comms/adapter-kit';
import type { Address, Email } from 'postal-mime';

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
const KEPT = new Set(KEPT_HEADERS);

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

/** How much of an HTML-only email's HTML is turned into its text (the HTML itself is kept whole). */
const MAX_HTML_FOR_TEXT = 1024 * 1024;

/**
 * The text of an HTML-only email: paragraphs and line breaks kept, a link's address after its words. Every pattern
 * runs in linear time (no unbounded repetition that can restart at each `<`): the HTML is anyone's to send.
 */
export function htmlToText(html: string): string {
  return dropBlocks(html.slice(0, MAX_HTML_FOR_TEXT), ['script', 'style'])
    .replace(
      /<a\s[^<>]{0,500}?\bhref\s*=\s*(?:"([^"<>]{1,2048})"|'([^'<>]{1,2048})')[^<>]{0,500}>([^<]{0,2000})<\/a>/gi,
      (_, dq: string | undefined, sq: string | undefined, label: string) => {
        const href = (dq ?? sq)!;
        return label.trim() === href || /^(mailto:|#)/i.test(href) ? label : `${label} (${href})`;
      },
    )
    .replace(/<br\s*\/?>|<\/p>|<\/div>|<\/li>|<\/h[1-6]>|<\/tr>/gi, '\n')
    .replace(/<[^<>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** `html` without the elements named (their content included), found with indexOf: one pass. */
function dropBlocks(html: string, names: string[]): string {
  const lower = html.toLowerCase();
  let out = '';
  let at = 0;
  for (;;) {
    let start = -1;
    let name = '';
    for (const n of names) {
      const i = lower.indexOf(`<${n}`, at);
      if (i !== -1 && (start === -1 || i < start)) [start, name] = [i, n];
    }
    if (start === -1) return out + html.slice(at);
    out += html.slice(at, start);
    const close = lower.indexOf(`</${name}`, start);
    if (close === -1) return out;
    const end = lower.indexOf('>', close);
    at = end === -1 ? html.length : end + 1;
  }
}

/**
 * The Date header, when it is a plausible time; else null, and the email is dated when it is received. The sender's
 * mail client writes it, not the transport: a customer's email with a wrong clock is still the customer's email.
 */
export function dateOf(date: Date | null | undefined): Date | null {
  return date && isPlausibleTime(date) ? date : null;
}

// Loaded on the first email and kept (about 5 MB a process): the worker, which sends email but never reads one,
// imports this package too. Kept once loaded: an import() per email resolved the module again every time.
let parser: Promise<typeof import('postal-mime').default> | undefined;

/** Addresses, group members included, lower-cased. */
function addresses(list: Address[] | undefined): string[] {
  return (list ?? [])
    .flatMap((a) => (a.group ? a.group : [a]))
    .map((a) => a.address.toLowerCase())
    .filter(Boolean);
}

/**
 * A whole MIME message → ParsedEmail. `field` names where it came from, for the refusal of one that is not MIME.
 * Throws MalformedPayloadError.
 */
export async function readMime(
  source: string | Buffer,
  field: string,
  envelope: { to: string[]; issues?: PayloadIssue[] } = { to: [] },
): Promise<ParsedEmail> {
  parser ??= import('postal-mime').then((m) => m.default);
  const PostalMime = await parser;
  let mail: Email;
  try {
    // A forwarded mail (message/rfc822) stays one attachment, as the customer sent it, not merged into this one.
    mail = await PostalMime.parse(source, { attachmentEncoding: 'arraybuffer', forceRfc822Attachments: true });
  } catch {
    throw new MalformedPayloadError(`the ${field} field is not a MIME message`, {
      issues: [{ field, message: 'a MIME message' }],
    });
  }
  const headers: Record<string, string> = {};
  for (const h of mail.headers) if (KEPT.has(h.key) && !(h.key in headers)) headers[h.key] = h.value.trim();
  if (mail.messageId) headers['message-id'] = mail.messageId;
  if (mail.inReplyTo) headers['in-reply-to'] = mail.inReplyTo;
  if (mail.references) headers.references = mail.references;
  const from = mail.from && !mail.from.group ? mail.from : (mail.from?.group?.[0] ?? null);
  return {
    from: from?.address ? { name: from.name || null, address: from.address.toLowerCase() } : null,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    subject: mail.subject ?? null,
    text: mail.text ?? null,
    html: mail.html ?? null,
    headers,
    attachments: mail.attachments.map((a) => {
      const content = typeof a.content === 'string' ? new TextEncoder().encode(a.content) : new Uint8Array(a.content);
      return {
        id: a.contentId ?? null,
        url: null,
        mime_type: a.mimeType,
        filename: a.filename ?? null,
        size: content.byteLength,
        caption: null,
        content,
      };
    }),
    envelopeTo: envelope.to.map((a) => a.toLowerCase()),
    date: mail.date ? dateOf(new Date(mail.date)) : null,
    raw: true,
    issues: [...(envelope.issues ?? [])],
  };
}
