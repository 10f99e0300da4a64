/**
 * X-Twilio-Signature, checked with the twilio library's own validateRequest over the URL Twilio called
 * (PUBLIC_BASE_URL + path + query) and the form parameters.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import type { Credentials, RawRequest, VerifyResult } from '@comms/adapter-kit';
import twilio from 'twilio';
import { formParams } from './form.js';

/** Verifies a Twilio webhook with the account's auth_token. */
export function verifyTwilio(req: RawRequest, credentials: Credentials): VerifyResult {
  const token = credentials.auth_token;
  if (!token) return { ok: false, reason: 'the account has no auth_token' };
  const signature = req.headers['x-twilio-signature'];
  if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature' };
  return twilio.validateRequest(token, signature, req.url, formParams(req))
    ? { ok: true }
    : { ok: false, reason: 'X-Twilio-Signature does not match' };
}
