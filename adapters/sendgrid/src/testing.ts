/**
 * SendGrid webhooks as SendGrid posts them, for the tests and the simulator. Not exported from the package's main
 * entry.
 * - Inbound Parse, default mode (multipart fields):
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook#default-parameters
 * - Event Webhook (a JSON array of events): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 * - its signature (ECDSA P-256 over timestamp + body, base64 in X-Twilio-Email-Event-Webhook-Signature):
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fromHeader, type InboundEmailOptions, mailHeaders } from '@comms/adapter-email/testing';

// The events and their signing are production code (the sandbox transport plays events back).
export {
  type SendGridEventOptions,
  sendgridEvent,
  sendgridSignatureHeaders,
  signedSendGridEvents,
} from './webhook.js';

export { type InboundEmailOptions, newMessageId } from '@comms/adapter-email/testing';

/** The multipart fields Inbound Parse posts for one email, as a form `fetch` sends as multipart/form-data. */
export function sendgridInboundForm(o: InboundEmailOptions): FormData {
  const form = new FormData();
  form.set('headers', mailHeaders(o).join('\n'));
  form.set('from', fromHeader(o));
  form.set('to', o.to);
  form.set('subject', o.subject ?? 'Trip enquiry');
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
