/**
 * One attempt at one delivery (the `webhook-delivery` job), and what follows from its answer. The delivery row
 * is the truth: an attempt first claims it (a lease in `locked_until`), so a job queued twice, a sweeper's
 * re-queue or a second worker never send it twice at once; a worker killed mid-attempt frees it when the lease
 * expires, and the sweeper queues it again (at least once; the `webhook-id` lets receivers dedupe).
 *
 * Order is not promised: retries overtake, and workers run in parallel (README, "Outgoing webhooks").
 */
import { and, eq, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { forgetSubscribers } from '../platform/outbox.js';
import { secretsOf } from './endpoints.js';
import { sendWebhook } from './send.js';

export interface DeliverySettings {
  timeoutMs: number;
  /** Seconds before each attempt of a round (the first included). */
  scheduleSeconds: number[];
  disableAfterMs: number;
  allowPrivate: boolean;
  endpointConcurrency: number;
}

export function deliverySettings(config: {
  WEBHOOK_TIMEOUT_MS: number;
  WEBHOOK_RETRY_SCHEDULE: number[];
  WEBHOOK_DISABLE_AFTER_MS: number;
  WEBHOOK_ALLOW_PRIVATE: boolean;
  WEBHOOK_ENDPOINT_CONCURRENCY: number;
}): DeliverySettings {
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    scheduleSeconds: config.WEBHOOK_RETRY_SCHEDULE,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
  };
}

/** The delay before attempt `index` (0-based) of a round, jittered by ±20 % so retries of many spread out. */
export function retryDelayMs(settings: DeliverySettings, index: number): number | null {
  const seconds = settings.scheduleSeconds[index];
  if (seconds === undefined) return null;
  return Math.round(seconds * 1000 * (0.8 + Math.random() * 0.4));
}

interface ClaimRow {
  event_id: string;
  payload: string;
  attempts: number;
  endpoint_id: number;
  enabled: boolean | null;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: string | Date | null;
  failing_since: string | Date | null;
}

export type AttemptOutcome =
  /** Nothing done: not pending, not due, in flight elsewhere, or gone. */
  | { kind: 'skipped' }
  /** The endpoint has as many attempts in flight here as allowed: queue it again shortly. */
  | { kind: 'busy' }
  | { kind: 'delivered' }
  | { kind: 'retry'; attempts: number; delayMs: number }
  /** Failed for good: attempts exhausted, endpoint disabled or gone. */
  | { kind: 'failed' };

// Attempts in flight per endpoint in this process (WEBHOOK_ENDPOINT_CONCURRENCY).
const inFlight = new Map<string, number>();

/** Makes one attempt at the delivery, if it is due (or `force`: a replay sends it now) and not in flight. */
export async function attemptDelivery(
  ctx: TenantContext,
  settings: DeliverySettings,
  id: number,
  options: { force?: boolean } = {},
): Promise<AttemptOutcome> {
  const { webhookDeliveries: d, webhookEndpoints: e } = ctx.tenant.tables;
  const now = new Date();
  // The claim and the endpoint in one round trip: on a busy worker the database's round trips are the cost.
  const s = sql.identifier(ctx.tenant.schemaName);
  const [claimed] = await rawRows<ClaimRow>(
    ctx.db,
    sql`with c as (
          update ${s}.webhook_deliveries
             set locked_until = ${new Date(now.getTime() + settings.timeoutMs + 30_000)}
           where id = ${id} and status = 'pending' and (locked_until is null or locked_until < ${now})
             ${options.force ? sql`` : sql`and next_attempt_at <= ${new Date(now.getTime() + 1_000)}`}
          returning id, endpoint_id, event_id, payload, attempts)
        select c.event_id, c.payload, c.attempts, e.id as endpoint_id, e.enabled, e.url, e.secret_encrypted,
               e.previous_secret_encrypted, e.previous_secret_expires_at, e.failing_since
          from c left join ${s}.webhook_endpoints e on e.id = c.endpoint_id`,
  );
  if (!claimed) return { kind: 'skipped' };
  if (!claimed.enabled) {
    await ctx.db
      .update(d)
      .set({ status: 'failed', lockedUntil: null, nextAttemptAt: null, lastError: 'the endpoint is disabled' })
      .where(eq(d.id, id));
    return { kind: 'failed' };
  }
  const endpoint = {
    id: claimed.endpoint_id,
    url: claimed.url,
    secretEncrypted: claimed.secret_encrypted,
    previousSecretEncrypted: claimed.previous_secret_encrypted,
    previousSecretExpiresAt: claimed.previous_secret_expires_at ? new Date(claimed.previous_secret_expires_at) : null,
    failingSince: claimed.failing_since,
  };
  const key = `${ctx.tenant.schemaName}:${endpoint.id}`;
  if ((inFlight.get(key) ?? 0) >= settings.endpointConcurrency) {
    await ctx.db.update(d).set({ lockedUntil: null }).where(eq(d.id, id));
    return { kind: 'busy' };
  }
  inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
  let res: Awaited<ReturnType<typeof sendWebhook>>;
  try {
    res = await sendWebhook({
      url: endpoint.url,
      id: claimed.event_id,
      body: claimed.payload,
      secrets: secretsOf(ctx, endpoint),
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivate,
    });
  } finally {
    const n = (inFlight.get(key) ?? 1) - 1;
    if (n > 0) inFlight.set(key, n);
    else inFlight.delete(key);
  }
  const attempts = claimed.attempts + 1;
  const ok = res.statusCode !== null && res.statusCode >= 200 && res.statusCode < 300;
  const error = ok ? null : (res.error ?? `the receiver answered ${res.statusCode}`);
  // The attempt is logged in the statement that writes the delivery's outcome (one round trip).
  const finish = async (set: { status: 'succeeded' | 'failed' | 'pending'; nextAttemptAt: Date | null }) => {
    await ctx.db.execute(
      sql`with attempt as (
            insert into ${s}.webhook_delivery_attempts
                   (delivery_id, attempted_at, status_code, duration_ms, response_body, error)
            values (${id}, ${now}, ${res.statusCode}, ${res.durationMs}, ${res.body}, ${error}))
          update ${s}.webhook_deliveries
             set status = ${set.status}, attempts = ${attempts}, next_attempt_at = ${set.nextAttemptAt},
                 locked_until = null, last_attempt_at = ${now}, last_status_code = ${res.statusCode},
                 last_error = ${error}
           where id = ${id}`,
    );
  };
  if (ok) {
    await finish({ status: 'succeeded', nextAttemptAt: null });
    if (endpoint.failingSince) await ctx.db.update(e).set({ failingSince: null }).where(eq(e.id, endpoint.id));
    return { kind: 'delivered' };
  }
  if (res.statusCode === 410) {
    await finish({ status: 'failed', nextAttemptAt: null });
    await disableEndpoint(ctx, endpoint, 'the receiver answered 410 Gone');
    return { kind: 'failed' };
  }
  const delayMs = retryDelayMs(settings, attempts);
  await finish({
    status: delayMs === null ? 'failed' : 'pending',
    nextAttemptAt: delayMs === null ? null : new Date(Date.now() + delayMs),
  });
  // Failing since the first failure after the last success; past WEBHOOK_DISABLE_AFTER_MS, disabled.
  const [marked] = await ctx.db
    .update(e)
    .set({ failingSince: sql`coalesce(${e.failingSince}, ${now})` })
    .where(eq(e.id, endpoint.id))
    .returning({ failingSince: e.failingSince });
  if (marked?.failingSince && now.getTime() - marked.failingSince.getTime() >= settings.disableAfterMs) {
    await disableEndpoint(
      ctx,
      endpoint,
      `every attempt failed for ${Math.round(settings.disableAfterMs / 3_600_000)} h`,
    );
    return { kind: 'failed' };
  }
  return delayMs === null ? { kind: 'failed' } : { kind: 'retry', attempts, delayMs };
}

/** Disables the endpoint (once) and tells the tenant's admins over the WebSocket. */
export async function disableEndpoint(ctx: TenantContext, endpoint: { id: number }, reason: string): Promise<void> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const [row] = await ctx.db
    .update(e)
    .set({ enabled: false, disabledReason: reason, updatedAt: new Date() })
    .where(and(eq(e.id, endpoint.id), eq(e.enabled, true)))
    .returning();
  if (!row) return;
  forgetSubscribers(ctx.tenant.schemaName);
  ctx.log.warn({ endpoint_id: endpoint.id, reason }, 'webhook endpoint disabled');
  await ctx.bus.publish({
    type: 'webhook_endpoint_disabled',
    tenant: ctx.tenant.slug,
    adminsOnly: true,
    data: { endpoint_id: row.id, url: row.url, reason, disabled_at: row.updatedAt.toISOString() },
  });
}

/** One attempt, then the next one queued as the outcome says (a failure to queue is left to the sweeper). */
export async function deliverAndSchedule(
  ctx: TenantContext,
  settings: DeliverySettings,
  id: number,
  options: { force?: boolean } = {},
): Promise<AttemptOutcome> {
  const outcome = await attemptDelivery(ctx, settings, id, options);
  try {
    if (outcome.kind === 'busy')
      await ctx.queues.add(
        'webhook-delivery',
        { tenant: ctx.tenant.slug, delivery_id: id, attempt: 0, key: `b${Date.now()}` },
        { delayMs: 100 + Math.round(Math.random() * 400) },
      );
    if (outcome.kind === 'retry')
      await ctx.queues.add(
        'webhook-delivery',
        { tenant: ctx.tenant.slug, delivery_id: id, attempt: outcome.attempts },
        { delayMs: outcome.delayMs },
      );
  } catch (err) {
    ctx.log.warn({ err: String(err), delivery_id: id }, 'webhook retry not queued; the sweeper will');
  }
  return outcome;
}
