/**
 * One webhook request as the Standard Webhooks specification describes it
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md): `POST` of the
 * JSON body with `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the base64-decoded part of the `whsec_` secret, one
 * signature per secret in force (two during a rotation's overlap).
 *
 * Redirects are not followed (a 3xx is a failed attempt: following it would go around the address guard); the
 * answer's body is read up to 1 KiB, for the delivery log, and the rest dropped.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, RefusedAddressError, refusedRange } from './address.js';

const SECRET_PREFIX = 'whsec_';
export const USER_AGENT = 'comms-webhooks/1.0 (Communication Service; +https://www.standardwebhooks.com)';
/** How much of an answer's body is kept. */
export const RESPONSE_BODY_LIMIT = 1024;

/** A new signing secret: `whsec_` and 32 random bytes, base64 (the spec asks for 24 to 64). */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

// The HMAC key of each secret, decoded once (a secret signs every delivery of its endpoint).
const keys = new Map<string, Buffer>();
function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
    if (keys.size >= 1_000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** `v1,<signature>` of one message under one secret. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface WebhookRequest {
  url: string;
  id: string;
  body: string;
  /** The secrets in force, newest first. */
  secrets: string[];
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface WebhookResponse {
  /** Null when no answer came (connection refused, timeout, refused address). */
  statusCode: number | null;
  durationMs: number;
  /** The first 1 KiB of the body. */
  body: string | null;
  error: string | null;
}

/**
 * One keep-alive agent per endpoint origin (scheme, host, port) and address policy, so an endpoint's deliveries reuse
 * a few warm connections (the most recently used first, so the others idle out), and what is known of the origin
 * is worked out once: the parsed URL, and for a literal IP host whether the guard refuses it. A host name is
 * checked by the agent's `lookup`, once per connection, on the address it connects to.
 */
interface Origin {
  agent: http.Agent;
  /** Why the guard refuses the origin's literal IP, or null. */
  refused: string | null;
}
const origins = new Map<string, Origin>();
const parsedUrls = new Map<string, URL | null>();
const MAX_ORIGINS = 1_000;

function parse(raw: string): URL | null {
  let url = parsedUrls.get(raw);
  if (url === undefined) {
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (parsedUrls.size >= MAX_ORIGINS) parsedUrls.clear();
    parsedUrls.set(raw, url);
  }
  return url;
}

function originOf(url: URL, allowPrivate: boolean): Origin {
  const key = `${url.protocol}//${url.host}|${allowPrivate}`;
  let origin = origins.get(key);
  if (!origin) {
    // The oldest origin is forgotten (its idle connections time out; requests in flight finish).
    if (origins.size >= MAX_ORIGINS) origins.delete(origins.keys().next().value!);
    const options: http.AgentOptions = {
      keepAlive: true,
      maxSockets: 64,
      scheduling: 'lifo',
      // Idle connections close after a minute.
      timeout: 60_000,
      lookup: guardedLookup(allowPrivate) as http.AgentOptions['lookup'],
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A literal IP never goes through the agent's lookup: it is checked here.
    const range = !allowPrivate && isIP(host) ? refusedRange(host) : null;
    origin = {
      agent: url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options),
      refused: range ? `refused: ${host} is a ${range} address` : null,
    };
    origins.set(key, origin);
  }
  return origin;
}

/** Sends one signed request; never throws (a failure is a response without a status). */
export async function sendWebhook(req: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const done = (statusCode: number | null, body: string | null, error: string | null): WebhookResponse => ({
    statusCode,
    body,
    error,
    durationMs: Math.round(performance.now() - started),
  });
  const url = parse(req.url);
  if (!url) return done(null, null, 'the endpoint URL is not valid');
  const origin = originOf(url, req.allowPrivate);
  if (origin.refused) return done(null, null, origin.refused);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(req.body)),
    'user-agent': USER_AGENT,
    'webhook-id': req.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': req.secrets.map((s) => signature(s, req.id, timestamp, req.body)).join(' '),
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const finish = (r: WebhookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const request = client.request(url, { method: 'POST', headers, agent: origin.agent }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= RESPONSE_BODY_LIMIT) return;
        chunks.push(chunk);
        kept += chunk.length;
        // Enough for the log: stop reading; the connection is not reused.
        if (kept >= RESPONSE_BODY_LIMIT) res.destroy();
      });
      const end = () =>
        finish(
          done(res.statusCode ?? null, Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'), null),
        );
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    request.on('error', (err) => {
      const message = err instanceof RefusedAddressError ? `refused: ${err.message}` : err.message;
      finish(done(null, null, message || String(err)));
    });
    request.end(req.body);
  });
}
