/**
 * Signing Meta webhooks the way Meta does: `X-Hub-Signature-256` is `sha256=` and the hex HMAC-SHA256 of the raw
 * body with the app secret. The sandbox transport signs the statuses it plays back with it; the testing kits sign
 * their webhooks with it. https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { createHmac } from 'node:crypto';
import type { SignedWebhook } from '@comms/adapter-kit';

/** `sha256=` and the hex HMAC-SHA256 of `body` with the app secret. */
export function hubSignature(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers of a signed Meta webhook POST. */
export function signedMetaHeaders(body: string | Uint8Array, appSecret: string): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(body, appSecret) };
}

/** A Meta webhook POST signed with the app secret: the payload as JSON (a string is sent as it is). */
export function signedMetaWebhook(payload: unknown, appSecret: string): SignedWebhook {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { body, headers: signedMetaHeaders(body, appSecret) };
}
