/**
 * SendGrid webhooks as SendGrid posts them, for the tests and the simulator. Not exported from the package's main
 * entry.
 * - Inbound Parse, default mode (multipart fields):
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook#default-parameters
 * - Event Webhook (a JSON array of events): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 * - its signature (ECDSA P-256 over timestamp + body, base64 in X-Twilio-Email-Event-Webhook-Signature):
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { SignedWebhook } from '@comms/adapter-kit/testing';

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
}

/** The multipart fields Inbound Parse posts for one email, as a form `fetch` sends as multipart/form-data. */
export function sendgridInboundForm(o: InboundEmailOptions): FormData {
  const from = `${o.name ?? 'Ana Lima'} <${o.from}>`;
  const subject = o.subject ?? 'Trip enquiry';
  const headers = [
    `Message-ID: <${o.messageId ?? newMessageId()}>`,
    ...(o.date ? [`Date: ${o.date.toUTCString()}`] : []),
    `From: ${from}`,
    `To: ${o.to}`,
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    ...(o.inReplyTo ? [`In-Reply-To: <${o.inReplyTo}>`] : []),
    ...(o.references?.length ? [`References: ${o.references.map((id) => `<${id}>`).join(' ')}`] : []),
  ];
  const form = new FormData();
  form.set('headers', headers.join('\n'));
  form.set('from', from);
  form.set('to', o.to);
  form.set('subject', subject);
  form.set('text', o.text);
  form.set('envelope', JSON.stringify({ to: [o.to], from: o.from }));
  form.set('charsets', JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8' }));
  form.set('SPF', 'pass');
  form.set('attachments', '0');
  return form;
}

export interface SendGridEventOptions {
  event: 'processed' | 'deferred' | 'delivered' | 'open' | 'click' | 'bounce' | 'dropped' | 'spamreport';
  /** The recipient. */
  email: string;
  /** The message's id: the send's X-Message-Id, then SendGrid's own suffix (`<id>.filter…`). */
  sgMessageId: string;
  /** The event's id (how redeliveries dedupe); a new one by default. */
  sgEventId?: string;
  timestamp?: Date | number;
  /** A bounce's or drop's reason, and the like. */
  extra?: Record<string, unknown>;
}

/** One event object of an Event Webhook batch. */
export function sendgridEvent(o: SendGridEventOptions): Record<string, unknown> {
  const at = o.timestamp ?? new Date();
  return {
    email: o.email,
    timestamp: at instanceof Date ? Math.floor(at.getTime() / 1000) : at,
    event: o.event,
    sg_event_id: o.sgEventId ?? randomBytes(16).toString('base64url'),
    sg_message_id: o.sgMessageId,
    ...o.extra,
  };
}

/** A P-256 key pair: the private half signs, the public half is what SendGrid shows (base64 DER), `event_public_key`. */
export function sendgridEventKeys(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

/** The signature headers SendGrid sends with `body`: ECDSA (SHA-256) over the timestamp followed by the body. */
export function sendgridSignatureHeaders(
  body: string,
  privateKey: KeyObject,
  timestamp = String(Math.floor(Date.now() / 1000)),
): Record<string, string> {
  return {
    'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(timestamp + body), privateKey).toString(
      'base64',
    ),
    'x-twilio-email-event-webhook-timestamp': timestamp,
  };
}

/** An Event Webhook POST of `events` (a string is sent as it is), signed with `privateKey`. */
export function signedSendGridEvents(events: unknown[] | string, privateKey: KeyObject): SignedWebhook {
  const body = typeof events === 'string' ? events : JSON.stringify(events);
  return { body, headers: { 'content-type': 'application/json', ...sendgridSignatureHeaders(body, privateKey) } };
}
