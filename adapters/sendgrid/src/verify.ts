/**
 * SendGrid signatures.
 * Event Webhook: ECDSA over timestamp + raw body, checked with @sendgrid/eventwebhook.
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 * Inbound Parse: the account's `inbound_token` in the URL (`?token=`), and SendGrid's ECDSA signature when present.
 *   https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/securing-your-parse-webhooks
 */
import { timingSafeEqual } from 'node:crypto';
import type { Credentials, RawRequest, VerifyResult } from '@comms/adapter-kit';
import { EventWebhook } from '@sendgrid/eventwebhook';

const SIGNATURE = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';

function ecdsa(req: RawRequest, publicKey: string | undefined): VerifyResult {
  const signature = req.headers[SIGNATURE];
  const timestamp = req.headers[TIMESTAMP];
  if (!signature || !timestamp) return { ok: false, reason: 'missing the SendGrid signature headers' };
  if (!publicKey) return { ok: false, reason: 'the account has no event_public_key' };
  try {
    const ew = new EventWebhook();
    const ok = ew.verifySignature(ew.convertPublicKeyToECDSA(publicKey), Buffer.from(req.body), signature, timestamp);
    return ok ? { ok: true } : { ok: false, reason: 'the SendGrid signature does not match' };
  } catch {
    return { ok: false, reason: 'the SendGrid signature could not be checked' };
  }
}

/** Event Webhook: the ECDSA signature is required. */
export function verifySendGridEvents(req: RawRequest, credentials: Credentials): VerifyResult {
  return ecdsa(req, credentials.event_public_key);
}

/** Inbound Parse: `?token=` must be the account's inbound_token; a signed request must also verify. */
export function verifySendGridInbound(req: RawRequest, credentials: Credentials): VerifyResult {
  const expected = credentials.inbound_token;
  if (!expected) return { ok: false, reason: 'the account has no inbound_token' };
  const given = new URL(req.url).searchParams.get('token') ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'the inbound token does not match' };
  if (req.headers[SIGNATURE]) return ecdsa(req, credentials.event_public_key);
  return { ok: true };
}
