/**
 * One webhook request as the Standard Webhooks specification describes it
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md): `POST` of the
 * JSON body with `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the base64-decoded part of the `whsec_` secret, one
 * signature per secret in force (two during a rotation's overlap).
 *
 * Redirects are not followed (a 3xx is a failed attempt: following it would go around the address guard); the
 * answer's body is read up to 1 KiB, for the delivery log, and the rest dropped. Requests go through undici (the
 * HTTP/1.1 client Node's own fetch is built on) with a keep-alive connection pool per endpoint origin, through its
 * dispatch API (no stream and no promise of its own per request): on a busy worker the HTTP client is most of what
 * a delivery costs, and this way costs about a fifth less CPU than node:http's request (docs/performance.md).
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { type Dispatcher, Pool } from 'undici';
import { guardedLookup, RefusedAddressError, refusedRange } from './address.js';

const SECRET_PREFIX = 'whsec_';
export const USER_AGENT = 'comms-webhooks/1.0 (Communication Service; +https://www.standardwebhooks.com)';
/** How much of an answer's body is kept. */
export const RESPONSE_BODY_LIMIT = 1024;

/** A new signing secret: `whsec_` and 32 random bytes, base64 (the spec asks for 24 to 64). */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

// The HMAC key of each secret, decoded and imported once (a secret signs every delivery of its endpoint, and
// importing raw key bytes is most of what an HMAC of a 1 KB body costs).
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(
      Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64'),
    );
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
 * One keep-alive connection pool per endpoint origin (scheme, host, port) and address policy, so an endpoint's
 * deliveries reuse a few warm connections, and what is known of the origin is worked out once: the parsed URL, and
 * for a literal IP host whether the guard refuses it. A host name is checked by the pool's `lookup`, once per
 * connection, on the address it connects to.
 */
interface Origin {
  /** `scheme://host:port`. */
  url: string;
  pool: Pool;
  /** Why the guard refuses the origin's literal IP, or null. */
  refused: string | null;
}
/** An endpoint URL as a request needs it, worked out once. */
interface Target {
  origin: Origin;
  path: string;
}
const origins = new Map<string, Origin>();
const targets = new Map<string, Target | null>();
const MAX_ORIGINS = 1_000;
// Connections per origin at most (the endpoint's concurrency bounds what is in flight; this bounds the pool).
const MAX_CONNECTIONS = 64;

function targetOf(raw: string, allowPrivate: boolean): Target | null {
  const key = `${allowPrivate ? 'p' : 'g'}${raw}`;
  let target = targets.get(key);
  if (target === undefined) {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {}
    target = url ? { origin: originOf(url, allowPrivate), path: url.pathname + url.search } : null;
    if (targets.size >= MAX_ORIGINS) targets.clear();
    targets.set(key, target);
  }
  return target;
}

function originOf(url: URL, allowPrivate: boolean): Origin {
  const key = `${url.origin}|${allowPrivate}`;
  let origin = origins.get(key);
  if (!origin) {
    if (origins.size >= MAX_ORIGINS) {
      // The oldest origin is let go: its pool closes once its requests in flight are done.
      const [oldestKey, oldest] = origins.entries().next().value!;
      origins.delete(oldestKey);
      targets.clear();
      void oldest.pool.close().catch(() => {});
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A literal IP never goes through the pool's lookup: it is checked here.
    const range = !allowPrivate && isIP(host) ? refusedRange(host) : null;
    origin = {
      url: url.origin,
      pool: new Pool(url.origin, {
        connections: MAX_CONNECTIONS,
        // Idle connections close after a minute at most (sooner if the receiver says so in `keep-alive`).
        keepAliveMaxTimeout: 60_000,
        connect: { lookup: guardedLookup(allowPrivate) },
      }),
      refused: range ? `refused: ${host} is a ${range} address` : null,
    };
    origins.set(key, origin);
  }
  return origin;
}

/**
 * One attempt's handler of undici's dispatch: the status, the body's first KiB, and the attempt's timeout. No stream
 * and no promise per request, which on a busy worker is a good part of what a request costs.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private status: number | null = null;
  private chunks: Buffer[] | null = null;
  private kept = 0;
  private enough = false;
  private timedOut = false;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly started: number,
    private readonly timeoutMs: number,
    private readonly resolve: (r: WebhookResponse) => void,
  ) {
    this.timer = setTimeout(() => this.timeout(), timeoutMs);
  }

  private timeout(): void {
    this.timedOut = true;
    this.finish(null, null, `no answer within ${this.timeoutMs} ms`);
    // In flight: stopped now; still waiting for a connection: stopped when it gets one, never sent.
    this.controller?.abort(new Error('timeout'));
  }

  private finish(statusCode: number | null, body: string | null, error: string | null): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve({ statusCode, body, error, durationMs: Math.round(performance.now() - this.started) });
  }

  private body(): string {
    return this.chunks ? Buffer.concat(this.chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8') : '';
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new Error('timeout'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.enough) return;
    if (!this.chunks) this.chunks = [];
    this.chunks.push(chunk);
    this.kept += chunk.length;
    if (this.kept >= RESPONSE_BODY_LIMIT) {
      // Enough for the log: the rest is not read, and the connection is closed.
      this.enough = true;
      controller.abort(new Error('enough'));
    }
  }

  onResponseEnd(): void {
    this.finish(this.status, this.body(), null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const refused = err instanceof RefusedAddressError ? err : (err as { cause?: unknown }).cause;
    if (this.enough) this.finish(this.status, this.body(), null);
    else if (refused instanceof RefusedAddressError) this.finish(null, null, `refused: ${refused.message}`);
    else this.finish(null, null, err.message || String(err));
  }
}

function failed(started: number, error: string): Promise<WebhookResponse> {
  return Promise.resolve({ statusCode: null, body: null, error, durationMs: Math.round(performance.now() - started) });
}

/** Sends one signed request; never throws (a failure is a response without a status). */
export function sendWebhook(req: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const target = targetOf(req.url, req.allowPrivate);
  if (!target) return failed(started, 'the endpoint URL is not valid');
  if (target.origin.refused) return failed(started, target.origin.refused);
  const timestamp = Math.floor(Date.now() / 1000);
  let signatures = signature(req.secrets[0]!, req.id, timestamp, req.body);
  for (let i = 1; i < req.secrets.length; i++)
    signatures += ` ${signature(req.secrets[i]!, req.id, timestamp, req.body)}`;
  const options: Dispatcher.DispatchOptions = {
    origin: target.origin.url,
    path: target.path,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': req.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatures,
    },
    body: req.body,
    // The attempt's own timer is the only timeout.
    headersTimeout: 0,
    bodyTimeout: 0,
  };
  return new Promise((resolve) => {
    target.origin.pool.dispatch(options, new Attempt(started, req.timeoutMs, resolve));
  });
}
