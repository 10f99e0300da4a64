/**
 * A customer's email as their mail client writes it, for the tests, the benchmark and the simulator of both email
 * transports (SendGrid posts its headers and fields, SES the whole MIME message). Not exported from the package's
 * main entry. Header fields: RFC 5322; multipart bodies and base64 parts: RFC 2045/2046.
 */
import { randomBytes } from 'node:crypto';

/** A new Message-ID (without the angle brackets). */
export function newMessageId(domain = 'mail.example.com'): string {
  return `${randomBytes(12).toString('hex')}@${domain}`;
}

export interface InboundEmailOptions {
  /** The inbound address the email was sent to: how the gateway finds the channel account. */
  to: string;
  /** The sender's address. */
  from: string;
  /** The sender's display name. */
  name?: string;
  subject?: string;
  text: string;
  /** The Message-ID, without angle brackets; a new one by default. */
  messageId?: string;
  /** The Message-ID this email answers (In-Reply-To), and the thread before it (References). */
  inReplyTo?: string;
  references?: string[];
  /** The Date header; none by default, so the email is dated when it is received. */
  date?: Date;
  /** Files attached, in `mimeMessage` (multipart/mixed, each part base64 as mail clients send them). */
  attachments?: { filename: string; type: string; content: Buffer }[];
}

/** The sender as the From header names them. */
export const fromHeader = (o: InboundEmailOptions) => `${o.name ?? 'Ana Lima'} <${o.from}>`;

/** The message's header lines, without the body's Content-Type. */
export function mailHeaders(o: InboundEmailOptions): string[] {
  return [
    `Message-ID: <${o.messageId ?? newMessageId()}>`,
    ...(o.date ? [`Date: ${o.date.toUTCString()}`] : []),
    `From: ${fromHeader(o)}`,
    `To: ${o.to}`,
    `Subject: ${o.subject ?? 'Trip enquiry'}`,
    'MIME-Version: 1.0',
    ...(o.inReplyTo ? [`In-Reply-To: <${o.inReplyTo}>`] : []),
    ...(o.references?.length ? [`References: ${o.references.map((id) => `<${id}>`).join(' ')}`] : []),
  ];
}

/** The whole raw MIME message (CRLF line ends): plain text, or multipart/mixed with the attachments. */
export function mimeMessage(o: InboundEmailOptions): string {
  const files = o.attachments ?? [];
  const boundary = `b-${randomBytes(8).toString('hex')}`;
  const body = files.length
    ? [
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=UTF-8',
        '',
        o.text,
        ...files.flatMap((f) => [
          `--${boundary}`,
          `Content-Type: ${f.type}; name="${f.filename}"`,
          `Content-Disposition: attachment; filename="${f.filename}"`,
          'Content-Transfer-Encoding: base64',
          '',
          ...(f.content.toString('base64').match(/.{1,76}/g) ?? []),
        ]),
        `--${boundary}--`,
        '',
      ]
    : ['Content-Type: text/plain; charset=UTF-8', '', o.text, ''];
  return [...mailHeaders(o), ...body].join('\r\n');
}
