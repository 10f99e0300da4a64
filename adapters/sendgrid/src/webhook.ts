/**
 * SendGrid Event Webhook posts as SendGrid makes them: the `delivered` and `open` events the sandbox transport plays
 * back, and the signing the testing kit uses too.
 * - Event Webhook (a JSON array of events): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 * - its signature (ECDSA P-256 over timestamp + body, base64 in X-Twilio-Email-Event-Webhook-Signature):
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
import { createPrivateKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { SignedWebhook } from '@comms/adapter-kit';

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

/** A new id shaped like the X-Message-Id mail/send answers with (22 URL-safe base64 characters). */
export function newSendGridMessageId(): string {
  return randomBytes(16).toString('base64url');
}

/** The private half of an Event Webhook key pair, from its base64 PKCS#8 DER form (an account's `event_private_key`). */
export function sendgridPrivateKey(base64Der: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'pkcs8' });
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
