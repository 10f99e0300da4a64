/**
 * The inbound pipeline (DESIGN §8), one for every provider: find the tenant and the accounts the payload
 * names, check the signature over the raw bytes with each account's own secret, parse, make the text
 * storable, group the events by account, and ingest them durably. The gateway reads the bytes and turns
 * the outcome into an HTTP answer; a new provider is an adapter and one line of registration there.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  type InboundAdapter,
  issuesOf,
  type Subscription,
  UpstreamUnavailableError,
  MalformedPayloadError,
  malformedPayload,
  NormalizedEvent,
  type PayloadIssue,
  type RawRequest,
} from '@comms/adapter-kit';
import type { TenantContext } from '../platform/context.js';
import { AppError } from '../platform/errors.js';
import { jsonNestsDeeperThan, TOO_DEEP } from '../platform/json-depth.js';
import type { Runtime } from '../platform/runtime.js';
import { findAccountsByIdentifier, markUnsubscribed, resolveCredentials } from './channel-accounts.js';
import { claimSubscriptionReceipt, ingestWebhook, recordRejectedWebhook, type WebhookReceipt } from './ingest.js';
import type { ChannelAccountRow } from './views.js';
import type { WebhookRoute } from './webhook-routes.js';

/** One webhook as it arrived: the route it came in on, and its raw parts. */
export interface InboundRequest {
  tenant: string;
  /** The path and query the provider called (Twilio signs them, after PUBLIC_BASE_URL). */
  target: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * What became of a webhook; the gateway answers 200, the refusal's status (with the fields that are wrong, for a
 * malformed one), or 503 so the provider retries.
 */
export type ReceiveOutcome =
  | { outcome: 'stored'; events: number }
  | {
      outcome: 'refused';
      code: 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found';
      detail: string;
      errors?: PayloadIssue[];
    }
  | { outcome: 'unavailable'; detail: string };

export interface InboundPipeline {
  /** Verifies, parses and stores one webhook; never throws. */
  receive(route: WebhookRoute, adapter: InboundAdapter, request: InboundRequest): Promise<ReceiveOutcome>;
  /** A provider's GET subscription handshake (Meta's hub.challenge): the challenge to echo, or a refusal. */
  handshake(
    adapter: InboundAdapter,
    tenant: string,
    query: URLSearchParams,
  ): Promise<{ outcome: 'challenge'; body: string } | Exclude<ReceiveOutcome, { outcome: 'stored' }>>;
}

const MAX_ACCOUNTS_TRIED = 20;

/**
 * Account look-ups are kept for a few seconds: every webhook needs its account and decrypted secret, and
 * accounts change rarely. A rotated secret or a deleted account takes effect within ACCOUNT_TTL_MS.
 */
const ACCOUNT_TTL_MS = 5_000;
const ACCOUNT_CACHE_MAX = 10_000;

type Candidate = { account: ChannelAccountRow; credentials: Record<string, string> };

const UNAVAILABLE = { outcome: 'unavailable', detail: 'the webhook could not be stored; retry later' } as const;

export function createInboundPipeline(runtime: Runtime): InboundPipeline {
  const accountCache = new Map<string, { at: number; rows: Candidate[] }>();

  async function accountsFor(ctx: TenantContext, adapter: InboundAdapter, identifiers: string[]) {
    // The transport too: SES and SendGrid's events are both `email` routes that name no account, and each must
    // find its own transport's accounts.
    const key = `${ctx.tenant.slug}|${adapter.channels.join(',')}|${adapter.transport ?? ''}|${identifiers.join(',')}`;
    const hit = accountCache.get(key);
    if (hit && Date.now() - hit.at < ACCOUNT_TTL_MS) return hit.rows;
    const found = (
      await findAccountsByIdentifier(ctx, adapter.channels, identifiers.length ? identifiers : null)
    ).filter((a) => transportMatches(a, adapter));
    const rows = found.map((account) => ({ account, credentials: resolveCredentials(ctx, account, runtime.config) }));
    if (accountCache.size > ACCOUNT_CACHE_MAX) accountCache.clear();
    accountCache.set(key, { at: Date.now(), rows });
    return rows;
  }

  /** The tenant's context with a logger bound to the webhook, or the outcome that ends the request. */
  async function contextFor(slug: string, route: string): Promise<TenantContext | ReceiveOutcome> {
    try {
      const tenant = await runtime.tenants.resolve(slug);
      return runtime.context(tenant, { log: runtime.log.child({ webhook: route, tenant: tenant.slug }) });
    } catch (err) {
      if (err instanceof AppError && (err.code === 'not_found' || err.code === 'bad_request'))
        return { outcome: 'refused', code: err.code, detail: err.message };
      runtime.log.error({ webhook: route, err }, 'tenant lookup failed');
      return UNAVAILABLE;
    }
  }

  /**
   * A subscription message (SNS): its receipt claimed first, then, the first time only, what it asks done (the
   * SubscribeURL called, or the unsubscription recorded), so a redelivered SubscriptionConfirmation confirms nothing
   * twice. A confirmation that fails gives the claim back and answers 503: the provider redelivers, and it is tried
   * again.
   */
  async function subscribe(
    ctx: TenantContext,
    account: ChannelAccountRow,
    receipt: WebhookReceipt,
    subscription: Subscription,
  ): Promise<ReceiveOutcome> {
    let claim: Awaited<ReturnType<typeof claimSubscriptionReceipt>>;
    try {
      claim = await claimSubscriptionReceipt(ctx, account, receipt);
    } catch (err) {
      ctx.log.error({ err }, 'subscription receipt not stored');
      return UNAVAILABLE;
    }
    if (claim === 'duplicate') return { outcome: 'stored', events: 0 };
    try {
      if (subscription.kind === 'confirm') {
        await subscription.confirm();
        ctx.log.info({ account: account.id }, 'subscription confirmed');
      } else {
        await markUnsubscribed(ctx, account, subscription.topic);
        ctx.log.warn({ account: account.id }, 'the provider confirmed an unsubscription: no more notifications');
      }
      return { outcome: 'stored', events: 0 };
    } catch (err) {
      ctx.log.error({ err: String(err) }, 'subscription message not handled');
      await claim.release().catch(() => undefined);
      return UNAVAILABLE;
    }
  }

  return {
    async receive(route, adapter, request) {
      const ctx = await contextFor(request.tenant, route);
      if ('outcome' in ctx) return ctx;
      const log = ctx.log;
      const url = new URL(request.target, 'http://gateway.invalid');
      const raw: RawRequest = {
        // Twilio signs the URL it called: our public base, not whatever host the proxy handed us.
        url: runtime.config.PUBLIC_BASE_URL.replace(/\/$/, '') + url.pathname + url.search,
        headers: request.headers,
        body: request.body,
      };

      if (isJson(request.headers['content-type']) && jsonNestsDeeperThan(request.body))
        return { outcome: 'refused', code: 'bad_request', detail: TOO_DEEP };

      let identifiers: string[];
      try {
        // Only what could be an account's identifier is looked up: one with a NUL (PostgreSQL text cannot hold it,
        // and the lookup's error would read as an outage, a 503 the provider retries for days) or longer than any
        // identifier an account may have names no account of ours.
        identifiers = [...new Set(await adapter.accountIdentifiers(raw))].filter(couldBeAccountIdentifier);
      } catch (err) {
        return malformed(err);
      }
      if (!adapter.accountless && identifiers.length === 0)
        return { outcome: 'refused', code: 'bad_request', detail: 'the payload names no account' };

      let candidates: Candidate[];
      try {
        candidates = await accountsFor(ctx, adapter, identifiers);
      } catch (err) {
        log.error({ err }, 'account lookup failed');
        return UNAVAILABLE;
      }
      const pinned = url.searchParams.get('account');
      if (pinned) candidates = candidates.filter((a) => String(a.account.id) === pinned);
      if (candidates.length === 0)
        return {
          outcome: 'refused',
          code: 'not_found',
          detail: 'no channel account of this tenant matches the webhook',
        };

      // Every account the payload names must prove the signature with its own secret.
      const verified: Candidate[] = [];
      let forbidden: string | null = null;
      for (const candidate of candidates.slice(0, MAX_ACCOUNTS_TRIED)) {
        const verdict = await adapter.verify(raw, candidate.credentials, candidate.account.transportSettings);
        if (verdict.ok) {
          verified.push(candidate);
          if (adapter.accountless) break;
        } else if (verdict.forbidden) forbidden = verdict.reason;
      }
      if (verified.length === 0)
        return forbidden
          ? { outcome: 'refused', code: 'forbidden', detail: forbidden }
          : { outcome: 'refused', code: 'unauthorized', detail: 'the webhook signature is missing or does not match' };

      const receipt: WebhookReceipt = {
        provider: route,
        payload: new TextDecoder().decode(request.body).replaceAll('\u0000', '\uFFFD'),
        contentType: request.headers['content-type'] ?? null,
        ...(adapter.dedupeKey ? { dedupeKey: adapter.dedupeKey(raw) } : {}),
      };
      const subscription = adapter.subscription?.(raw) ?? null;
      if (subscription) return subscribe(ctx, verified[0]!.account, receipt, subscription);
      let events: NormalizedEvent[];
      try {
        const first = verified[0]!;
        events = checkedEvents(
          storable(
            await adapter.parse(raw, { credentials: first.credentials, settings: first.account.transportSettings }),
          ),
        );
      } catch (err) {
        if (err instanceof UpstreamUnavailableError) {
          log.warn({ err: err.message }, 'what the webhook points at could not be fetched');
          return UNAVAILABLE;
        }
        // Signed, so the provider's own: refused (400, so it stops redelivering) and kept as a rejected receipt for
        // audit. Only when even that cannot be stored is it a 503.
        if (!(err instanceof MalformedPayloadError)) log.error({ err }, 'the adapter failed on a signed webhook');
        const refusal = malformed(err);
        try {
          for (const { account } of verified) await recordRejectedWebhook(ctx, account, receipt, refusal.detail);
        } catch (storeErr) {
          log.error({ err: storeErr }, 'rejected webhook not stored');
          return UNAVAILABLE;
        }
        log.warn({ fields: refusal.errors?.map((i) => i.field) }, 'signed webhook refused as malformed');
        return refusal;
      }

      const accounts = verified.map((v) => v.account);
      const byAccount = groupByAccount(events, accounts, adapter.accountless === true);
      try {
        for (const account of accounts) {
          await ingestWebhook(ctx, account, receipt, byAccount.get(account.id) ?? []);
        }
      } catch (err) {
        // Not stored (database or queue away): the provider must retry, so never a 2xx.
        log.error({ err }, 'webhook not stored');
        return UNAVAILABLE;
      }
      return { outcome: 'stored', events: events.length };
    },

    async handshake(adapter, tenant, query) {
      if (!adapter.handshake) return { outcome: 'refused', code: 'not_found', detail: 'no handshake on this route' };
      const ctx = await contextFor(tenant, 'handshake');
      if ('outcome' in ctx) return ctx as Exclude<ReceiveOutcome, { outcome: 'stored' }>;
      let asked: { verifyToken: string; challenge: string };
      try {
        asked = adapter.handshake(query);
      } catch (err) {
        return malformed(err);
      }
      let accounts: ChannelAccountRow[];
      try {
        accounts = await findAccountsByIdentifier(ctx, adapter.channels, null);
      } catch (err) {
        ctx.log.error({ err }, 'account lookup failed');
        return UNAVAILABLE;
      }
      const match = accounts.some((a) => {
        const expected = resolveCredentials(ctx, a, runtime.config).verify_token;
        return expected !== undefined && timingSafeEqualText(expected, asked.verifyToken);
      });
      if (!match)
        return {
          outcome: 'refused',
          code: 'forbidden',
          detail: 'hub.verify_token does not match any account of this tenant',
        };
      return { outcome: 'challenge', body: asked.challenge };
    },
  };
}

/** An email route serves the accounts of its transport (SendGrid's when it names none); other channels have none. */
function transportMatches(account: ChannelAccountRow, adapter: InboundAdapter): boolean {
  if (account.provider !== 'email') return true;
  return (account.transport ?? 'sendgrid') === (adapter.transport ?? 'sendgrid');
}

/** Channel-account identifiers are at most 320 characters (the API's limit) and, as text, hold no NUL. */
const MAX_IDENTIFIER_LENGTH = 320;
const couldBeAccountIdentifier = (id: string) =>
  id.length > 0 && id.length <= MAX_IDENTIFIER_LENGTH && !id.includes('\u0000');

/** Each event goes to the verified account it names (an accountless route's events to the one that verified). */
function groupByAccount(events: NormalizedEvent[], verified: ChannelAccountRow[], accountless: boolean) {
  const byAccount = new Map<number, NormalizedEvent[]>();
  for (const event of events) {
    const account = accountless ? verified[0] : verified.find((a) => a.identifier === event.account_identifier);
    if (!account) continue; // names an account that did not verify: not ours to store
    const list = byAccount.get(account.id);
    if (list) list.push(event);
    else byAccount.set(account.id, [event]);
  }
  return byAccount;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storableText(text: string): string {
  const clean = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return clean.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * PostgreSQL text and jsonb hold neither NUL characters nor lone UTF-16 surrogates (a `\ud800` escape in JSON). A
 * customer's message carrying them (a `\u0000` in JSON, `%00` in a form) is stored without NULs, and with U+FFFD for
 * a lone surrogate, rather than refused: refusing would make the provider redeliver it forever and the message would
 * never arrive. Object keys (a provider's extras) are cleaned too.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storable(v)])) as T;
  }
  return value;
}

/**
 * Every event an adapter returned, checked against the kit's normalized-event schema, so a value out of bounds (an
 * invalid or far-off time, an over-long id) is a malformed webhook here and never a failed insert later. Throws
 * MalformedPayloadError naming the event and its field.
 */
export function checkedEvents(events: readonly unknown[]): NormalizedEvent[] {
  const issues: PayloadIssue[] = [];
  const out: NormalizedEvent[] = [];
  events.forEach((event, i) => {
    const parsed = NormalizedEvent.safeParse(event);
    if (parsed.success) out.push(parsed.data);
    else issues.push(...issuesOf(parsed.error, ['events', i]));
  });
  if (issues.length) throw malformedPayload('a value read from the webhook is out of bounds', issues.slice(0, 10));
  return out;
}

/** The longest reason kept on a rejected receipt. */
const MAX_REASON = 2_000;

function malformed(err: unknown): ReceiveOutcome & { outcome: 'refused' } {
  if (!(err instanceof MalformedPayloadError))
    return { outcome: 'refused', code: 'bad_request', detail: 'malformed payload' };
  return {
    outcome: 'refused',
    code: 'bad_request',
    detail: `malformed payload: ${err.message}`.slice(0, MAX_REASON),
    ...(err.issues.length ? { errors: err.issues } : {}),
  };
}

const isJson = (type: string | undefined) => type !== undefined && /^application\/([\w.-]+\+)?json\b/i.test(type);

function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
