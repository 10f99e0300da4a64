/** A parsed email → the kit's normalized inbound message, one per account it was addressed to. */
import { createHash } from 'node:crypto';
import { type InboundMessage, MalformedPayloadError, malformedPayload, type PayloadIssue } from '@comms/adapter-kit';
import { messageIdList, normalizeMessageId } from './addresses.js';
import { htmlToText, type ParsedEmail } from './mime.js';

/*
 * Addresses and Message-IDs as RFC 5322 bounds them (an address of at most 320 characters, a line of at most 998):
 * a signed webhook with a value outside them is malformed (400), never a failed insert (503).
 */
/** RFC 5321: an address is at most 320 characters (64 local, @, 255 domain). */
export const MAX_ADDRESS = 320;
/** RFC 5322: a header line is at most 998 characters, so is a Message-ID. */
const MAX_MESSAGE_ID = 998;
const MAX_REFERENCES = 1000;

/** A Message-ID (without its brackets) as RFC 5322 bounds it, or an issue naming the header. */
function messageIdOf(id: string, header: string, issues: PayloadIssue[]): string | null {
  if (id.length > MAX_MESSAGE_ID)
    issues.push({ field: header, message: `a Message-ID of at most ${MAX_MESSAGE_ID} characters` });
  else if (!/^[^\s\p{Cc}]+$/u.test(id)) issues.push({ field: header, message: 'a Message-ID without spaces' });
  else return id;
  return null;
}

/** The addresses the email was sent to: envelope first, then To and Cc. */
export function recipientsOf(mail: ParsedEmail): string[] {
  return [...new Set([...mail.envelopeTo, ...mail.to, ...mail.cc])];
}

/**
 * One customer email as inbound messages, one per `accounts` address (the gateway stores each under the account it
 * verified). Its external id is the Message-ID, or without one a hash of `body`, so a redelivery dedupes.
 * `where(header)` names a header's field in the transport's payload. Throws MalformedPayloadError.
 */
export function emailMessages(
  mail: ParsedEmail,
  o: { accounts: string[]; body: Uint8Array; where: (header: string) => string; what: string },
): InboundMessage[] {
  const issues = [...mail.issues];
  if (!mail.from) issues.push({ field: o.where('from'), message: 'the sender address' });
  else if (mail.from.address.length > MAX_ADDRESS)
    issues.push({ field: o.where('from'), message: `an address of at most ${MAX_ADDRESS} characters` });
  for (const [field, list] of [
    ['to', mail.to],
    ['cc', mail.cc],
  ] as const)
    if (list.some((a) => a.length > MAX_ADDRESS))
      issues.push({ field, message: `addresses of at most ${MAX_ADDRESS} characters` });
  const header = (name: string) => {
    const v = mail.headers[name];
    return v ? messageIdOf(normalizeMessageId(v), o.where(name), issues) : null;
  };
  const messageId = header('message-id');
  const inReplyTo = header('in-reply-to');
  const references = messageIdList(mail.headers.references);
  if (references.length > MAX_REFERENCES)
    issues.push({ field: o.where('references'), message: `at most ${MAX_REFERENCES} Message-IDs` });
  for (const ref of references) if (!messageIdOf(ref, o.where('references'), issues)) break;
  if (issues.length) throw malformedPayload(`malformed ${o.what}`, issues.slice(0, 10));
  const from = mail.from;
  if (!from) throw new MalformedPayloadError('the email has no sender address');
  const external = messageId ?? `sha256:${createHash('sha256').update(o.body).digest('hex')}`;
  return o.accounts.map((account) => ({
    kind: 'message' as const,
    channel: 'email' as const,
    account_identifier: account,
    external_id: external,
    sender_identifier: from.address,
    sender_name: from.name,
    timestamp: mail.date ?? new Date(),
    type: 'text' as const,
    // Without the line breaks that end every MIME body.
    text: (mail.text ?? (mail.html ? htmlToText(mail.html) : null))?.trimEnd() ?? null,
    media: mail.attachments,
    location: null,
    email: {
      subject: mail.subject,
      message_id: messageId,
      in_reply_to: inReplyTo,
      references,
      from: from.address,
      to: mail.to,
      cc: mail.cc,
      html: mail.html,
      headers: mail.headers,
    },
    reply_to_external_id: inReplyTo,
    extra: {},
  }));
}
