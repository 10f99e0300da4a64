/**
 * Twilio webhooks as Twilio posts them (application/x-www-form-urlencoded, signed with X-Twilio-Signature): the
 * status callbacks the sandbox transport plays back, and the signing the testing kit uses too.
 * - status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 * - signature: https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SignedWebhook } from '@comms/adapter-kit';

/**
 * X-Twilio-Signature as Twilio documents it: the full URL Twilio called, then each POST parameter's name and value
 * sorted by name (case-sensitive), HMAC-SHA1 with the auth token, base64. (The gateway checks it with the twilio
 * library's own validateRequest, so this and the check stay independent of each other.)
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** The form post Twilio makes to `url` (the URL it was configured with, which it signs), signed with the auth token. */
export function signedTwilioWebhook(
  params: Record<string, string>,
  o: { url: string; authToken: string },
): SignedWebhook {
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(o.authToken, o.url, params),
    },
  };
}

/** A new Message SID (`SM` and 32 hex digits). */
export function newMessageSid(): string {
  return `SM${randomBytes(16).toString('hex')}`;
}

/** The documentation's placeholder Account SID. */
export const EXAMPLE_ACCOUNT_SID = 'AC00000000000000000000000000000000';

export interface TwilioStatusOptions {
  /** The MessageSid of our outbound message. */
  sid: string;
  status:
    | 'accepted'
    | 'scheduled'
    | 'queued'
    | 'sending'
    | 'sent'
    | 'delivered'
    | 'undelivered'
    | 'failed'
    | 'read'
    | 'canceled';
  /** Our number that sent the message (the account the callback is for). */
  from: string;
  to: string;
  /** Twilio's error code of an undelivered or failed message. */
  errorCode?: string;
  accountSid?: string;
}

/** The parameters of a status callback for one of our outbound messages. */
export function twilioStatusParams(o: TwilioStatusOptions): Record<string, string> {
  return {
    MessageSid: o.sid,
    MessageStatus: o.status,
    ...(o.errorCode ? { ErrorCode: o.errorCode } : {}),
    AccountSid: o.accountSid ?? EXAMPLE_ACCOUNT_SID,
    From: o.from,
    To: o.to,
  };
}
