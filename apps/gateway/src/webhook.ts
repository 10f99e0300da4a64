/**
 * One webhook request, provider-agnostic (DESIGN §8): find the tenant and the account the payload
 * names, check the signature over the raw bytes with that account's secret, parse, store durably,
 * and only then answer 2xx.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Channel, type InboundAdapter, MalformedPayloadError, type NormalizedEvent } from '@comms/adapter-kit';
import { type ChannelAccountRow, findAccountsByIdentifier, ingestWebhook, resolveCredentials } from '@comms/core/inbox';
import { AppError, problemResponse, type Runtime, type Tenant, type TenantContext } from '@comms/core/platform';
import type { Context } from 'hono';
import { readWebhook } from './body.js';

export interface WebhookSpec {
  /** Names the receipt in webhook_events (and its dedupe scope). */
  receipt: string;
  adapter: InboundAdapter;
  /** The account providers this route serves. */
  providers: readonly Channel[];
  /** Events name no account (SendGrid's Event Webhook): try the tenant's accounts, or `?account=<id>`. */
  accountless?: boolean;
  /** What to answer on success (Twilio wants TwiML). */
  ok?: (c: Context) => Response;
}

const MAX_ACCOUNTS_TRIED = 20;

/**
 * Account look-ups for a few seconds: every webhook needs its account and decrypted secret, and
 * accounts change rarely. A rotated secret or a deleted account takes effect within ACCOUNT_TTL_MS.
 */
const ACCOUNT_TTL_MS = 5_000;
const accountCache = new Map<
  string,
  { at: number; rows: { account: ChannelAccountRow; credentials: Record<string, string> }[] }
>();

async function accountsFor(runtime: Runtime, ctx: TenantContext, spec: WebhookSpec, identifiers: string[]) {
  const key = `${ctx.tenant.slug}|${spec.providers.join(',')}|${identifiers.join(',')}`;
  const hit = accountCache.get(key);
  if (hit && Date.now() - hit.at < ACCOUNT_TTL_MS) return hit.rows;
  const found = await findAccountsByIdentifier(ctx, spec.providers, identifiers.length ? identifiers : null);
  const rows = found.map((account) => ({ account, credentials: resolveCredentials(ctx, account, runtime.config) }));
  if (accountCache.size > 10_000) accountCache.clear();
  accountCache.set(key, { at: Date.now(), rows });
  return rows;
}

export async function handleWebhook(runtime: Runtime, c: Context, spec: WebhookSpec): Promise<Response> {
  // One child logger per webhook, made once the tenant is known; the early refusals log on the root one.
  const early = { webhook: spec.receipt };
  // The body first: a body over the limit is refused before anything is looked up.
  const limit = runtime.config.WEBHOOK_BODY_LIMIT;
  let read: Awaited<ReturnType<typeof readWebhook>>;
  try {
    read = await readWebhook(c, limit);
  } catch (err) {
    // The sender went away mid-body: nobody is waiting for the answer, and nothing was stored.
    runtime.log.info({ ...early, err: String(err) }, 'webhook body not received');
    return problemResponse(400, 'the request body could not be read');
  }
  if (read === 'too-large') return problemResponse(413, `the webhook body is larger than ${limit} bytes`);
  const { body, headers } = read;
  let tenant: Tenant;
  try {
    tenant = await runtime.tenants.resolve(c.req.param('tenant') ?? '');
  } catch (err) {
    if (err instanceof AppError) return problemResponse(err.status, err.message);
    runtime.log.error({ ...early, err }, 'tenant lookup failed');
    return unavailable();
  }
  const log = runtime.log.child({ webhook: spec.receipt, tenant: tenant.slug });
  const ctx = runtime.context(tenant, { log });

  const url = new URL(c.req.url);
  const raw = {
    // Twilio signs the URL it called: our public base, not whatever host the proxy handed us.
    url: runtime.config.PUBLIC_BASE_URL.replace(/\/$/, '') + url.pathname + url.search,
    headers,
    body,
  };

  let identifiers: string[];
  try {
    identifiers = [...new Set(await spec.adapter.accountIdentifiers(raw))];
  } catch (err) {
    return malformed(err);
  }
  if (!spec.accountless && identifiers.length === 0) return problemResponse(400, 'the payload names no account');

  const pinned = url.searchParams.get('account');
  let candidates: Awaited<ReturnType<typeof accountsFor>>;
  try {
    candidates = await accountsFor(runtime, ctx, spec, identifiers);
  } catch (err) {
    log.error({ err }, 'account lookup failed');
    return unavailable();
  }
  if (pinned) candidates = candidates.filter((a) => String(a.account.id) === pinned);
  if (candidates.length === 0) return problemResponse(404, 'no channel account of this tenant matches the webhook');

  // Every account the payload names must prove the signature with its own secret.
  const verified: ChannelAccountRow[] = [];
  for (const { account, credentials } of candidates.slice(0, MAX_ACCOUNTS_TRIED)) {
    if (spec.adapter.verify(raw, credentials).ok) {
      verified.push(account);
      if (spec.accountless) break;
    }
  }
  if (verified.length === 0) return problemResponse(401, 'the webhook signature is missing or does not match');

  let events: NormalizedEvent[];
  try {
    events = withoutNul(await spec.adapter.parse(raw));
  } catch (err) {
    return malformed(err);
  }

  const byAccount = new Map<number, NormalizedEvent[]>();
  for (const event of events) {
    const account = spec.accountless ? verified[0] : verified.find((a) => a.identifier === event.account_identifier);
    if (!account) continue; // names an account that did not verify: not ours to store
    byAccount.set(account.id, [...(byAccount.get(account.id) ?? []), event]);
  }

  const payload = new TextDecoder().decode(body).replaceAll('\u0000', '\uFFFD');
  try {
    for (const account of verified) {
      await ingestWebhook(
        ctx,
        account,
        { provider: spec.receipt, payload, contentType: headers['content-type'] ?? null },
        byAccount.get(account.id) ?? [],
      );
    }
  } catch (err) {
    // Not stored (database or queue away): the provider must retry, so never a 2xx.
    log.error({ err }, 'webhook not stored');
    return unavailable();
  }
  return spec.ok ? spec.ok(c) : c.json({ received: events.length }, 200);
}

/**
 * PostgreSQL text cannot hold NUL characters. A customer's message carrying one (a `\u0000` in JSON, `%00`
 * in a form) is stored without them rather than refused: refusing would make the provider redeliver it
 * forever and the message would never arrive.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNul(v)])) as T;
  }
  return value;
}

function malformed(err: unknown): Response {
  if (err instanceof MalformedPayloadError) return problemResponse(400, `malformed payload: ${err.message}`);
  return problemResponse(400, 'malformed payload');
}

function unavailable(): Response {
  return problemResponse(503, 'the webhook could not be stored; retry later', undefined, { 'retry-after': '5' });
}

/** Meta's subscription handshake: echo hub.challenge when hub.verify_token is one of ours. */
export async function handleMetaHandshake(
  runtime: Runtime,
  c: Context,
  providers: readonly Channel[],
): Promise<Response> {
  let ctx: TenantContext;
  try {
    ctx = runtime.context(await runtime.tenants.resolve(c.req.param('tenant') ?? ''));
  } catch (err) {
    if (err instanceof AppError) return problemResponse(err.status, err.message);
    return unavailable();
  }
  const mode = c.req.query('hub.mode');
  const token = c.req.query('hub.verify_token');
  const challenge = c.req.query('hub.challenge');
  if (mode !== 'subscribe' || !token || !challenge)
    return problemResponse(400, 'expected hub.mode=subscribe, hub.verify_token and hub.challenge');
  const accounts = await findAccountsByIdentifier(ctx, providers, null);
  const match = accounts.some((a) => {
    const expected = resolveCredentials(ctx, a, runtime.config).verify_token;
    return expected !== undefined && timingSafeEqualText(expected, token);
  });
  if (!match) return problemResponse(403, 'hub.verify_token does not match any account of this tenant');
  return c.text(challenge, 200);
}

function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
