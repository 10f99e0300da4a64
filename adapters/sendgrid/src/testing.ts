/**
 * SendGrid webhooks as SendGrid posts them, for the tests and the simulator. Not exported from the package's main
 * entry.
 * - Inbound Parse, default mode (multipart fields):
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook#default-parameters
 * - Event Webhook (a JSON array of events): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 * - its signature (ECDSA P-256 over timestamp + body, base64 in X-Twilio-Email-Event-Webhook-Signature):
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';

// The events and their signing are production code (the sandbox transport plays events back).
export {
  type SendGridEventOptions,
  sendgridEvent,
  sendgridSignatureHeaders,
  signedSendGridEvents,
} from './webhook.js';

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

/**
 * A P-256 key pair: the private half signs, the public half is what SendGrid shows (base64 DER), `event_public_key`.
 * `privateKeyDer` is the private half as a sandbox account's `event_private_key` (base64 PKCS#8 DER).
 */
export function sendgridEventKeys(): { privateKey: KeyObject; publicKey: string; privateKeyDer: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKeyDer: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
  };
}
