/**
 * What every Meta (Graph API) webhook and Send API share: the X-Hub-Signature-256 check and the
 * Graph error body. https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type HttpReply, httpSend } from './http.js';
import {
  type Credentials,
  type Handshake,
  MalformedPayloadError,
  ProviderError,
  type RawRequest,
  type VerifyResult,
} from '@comms/adapter-kit';

/** HMAC-SHA256 of the raw body with the app secret, compared in constant time. */
export function verifyHubSignature(req: RawRequest, credentials: Credentials): VerifyResult {
  const secret = credentials.app_secret;
  if (!secret) return { ok: false, reason: 'the account has no app_secret' };
  const header = req.headers['x-hub-signature-256'];
  if (!header?.startsWith('sha256=')) return { ok: false, reason: 'missing X-Hub-Signature-256' };
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', secret).update(req.body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'X-Hub-Signature-256 does not match' };
  return { ok: true };
}

/**
 * Meta's verification request when a webhook is subscribed: `hub.mode=subscribe`, the verify token the app
 * was configured with, and a challenge to echo.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
 */
export function metaHandshake(query: URLSearchParams): Handshake {
  const verifyToken = query.get('hub.verify_token');
  const challenge = query.get('hub.challenge');
  if (query.get('hub.mode') !== 'subscribe' || !verifyToken || !challenge)
    throw new MalformedPayloadError('expected hub.mode=subscribe, hub.verify_token and hub.challenge');
  return { verifyToken, challenge };
}

/** Graph API throttling codes: retry later. https://developers.facebook.com/docs/graph-api/overview/rate-limiting */
const THROTTLING = new Set([4, 17, 32, 613, 80007, 130429, 131048, 131056]);

/** A Graph API error response as a ProviderError: 5xx, 429 and throttling codes are transient. */
export async function graphError(res: HttpReply): Promise<ProviderError> {
  let code = `http_${res.status}`;
  let message = res.statusText || 'request failed';
  let numeric: number | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: number; error_subcode?: number; message?: string } };
    if (body.error) {
      numeric = body.error.code;
      if (numeric !== undefined) code = String(numeric);
      if (body.error.message) message = body.error.message;
    }
  } catch {
    // not JSON: keep the HTTP status
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  const transient = res.status >= 500 || res.status === 429 || (numeric !== undefined && THROTTLING.has(numeric));
  return new ProviderError(
    code,
    message,
    transient,
    Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {},
  );
}

/** POST JSON to the Graph API; network failures and timeouts are transient ProviderErrors. */
export async function postGraph(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<HttpReply> {
  try {
    return await httpSend(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: signal ?? null,
    });
  } catch (err) {
    throw new ProviderError('network', err instanceof Error ? err.message : String(err), true, { cause: err });
  }
}
