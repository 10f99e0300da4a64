/**
 * Delivering outgoing webhooks in batches (docs/adr/0009-outgoing-webhooks.md). The delivery rows are the queue: a
 * `webhook-delivery` job wakes one endpoint, and `deliverDue` claims a batch of that endpoint's due rows in one
 * statement (`FOR UPDATE SKIP LOCKED`, and a lease in `locked_until`), sends them at most
 * WEBHOOK_ENDPOINT_CONCURRENCY at a time from this process, and writes every outcome (the attempt log, the rows,
 * the endpoint's failure clock) in one statement, until nothing is due. The lease keeps a duplicated job, the
 * sweeper's wake or a second worker from sending a delivery twice at once; a worker killed mid-batch frees its
 * rows when the lease expires, and the sweeper wakes their endpoint again (at least once; the `webhook-id` lets
 * receivers dedupe).
 *
 * Order is not promised: retries overtake, and workers run in parallel (README, "Outgoing webhooks").
 */
import { and, eq, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { forgetSubscribers } from '../platform/outbox.js';
import { secretsOf } from './endpoints.js';
import { sendWebhook, type WebhookResponse } from './send.js';

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

export type AttemptOutcome =
  /** Nothing done: not pending, not due, in flight elsewhere, or gone. */
  | { kind: 'skipped' }
  | { kind: 'delivered' }
  | { kind: 'retry'; attempts: number; delayMs: number }
  /** Failed for good: attempts exhausted, endpoint disabled or gone. */
  | { kind: 'failed' };

/** What one run of `deliverDue` did, and what is left. */
export interface DueOutcome {
  sent: number;
  /** Stopped by its time budget with rows still due: wake the endpoint again. */
  more: boolean;
  /** When the endpoint's next pending row falls due (a retry), if any. */
  nextAt: Date | null;
}

// A run of one endpoint's job gives its worker slot back after this long, so endpoints with big backlogs take
// turns with the others (the job wakes the endpoint again behind them).
const RUN_BUDGET_MS = 5_000;
// Rows claimed at once: enough for about a second of sending at the endpoint's pace, within these bounds.
const MAX_BATCH = 250;
const TARGET_BATCH_MS = 1_000;
// A lease lasts the timeout and this much more; a send starts only while it can end `LEASE_MARGIN_MS` before the
// lease does, so a claimed row is never sent after another worker could have claimed it again.
const LEASE_EXTRA_MS = 30_000;
const LEASE_MARGIN_MS = 5_000;

// ---- Slots: attempts in flight per endpoint in this process (WEBHOOK_ENDPOINT_CONCURRENCY) ----

interface Slots {
  used: number;
  waiting: (() => void)[];
}
const slots = new Map<string, Slots>();

async function acquire(key: string, limit: number): Promise<void> {
  let s = slots.get(key);
  if (!s) {
    s = { used: 0, waiting: [] };
    slots.set(key, s);
  }
  if (s.used < limit) {
    s.used += 1;
    return;
  }
  // The slot is handed over by `release` (the count stays where it is).
  await new Promise<void>((resolve) => s.waiting.push(resolve));
}

function release(key: string): void {
  const s = slots.get(key);
  if (!s) return;
  const next = s.waiting.shift();
  if (next) {
    next();
    return;
  }
  s.used -= 1;
  if (s.used <= 0) slots.delete(key);
}

// Each endpoint's recent attempt duration (ms, moving average), which sizes its batches.
const pace = new Map<string, number>();
function batchSize(key: string, concurrency: number): number {
  const ms = pace.get(key) ?? 50;
  return Math.max(concurrency, Math.min(MAX_BATCH, Math.floor((TARGET_BATCH_MS * concurrency) / Math.max(1, ms))));
}
function notePace(key: string, ms: number): void {
  if (pace.size >= 10_000) pace.clear();
  const prev = pace.get(key);
  pace.set(key, prev === undefined ? ms : prev * 0.8 + ms * 0.2);
}

// ---- The claim ----

interface ClaimRow {
  endpoint_id: number;
  enabled: boolean;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: string | Date | null;
  failing_since: string | Date | null;
  next_at?: string | Date | null;
  id: number | null;
  event_id: string | null;
  payload: string | null;
  attempts: number | null;
}

interface Endpoint {
  id: number;
  enabled: boolean;
  url: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
}

interface Claimed {
  id: number;
  eventId: string;
  payload: string;
  attempts: number;
}

interface Claim {
  endpoint: Endpoint;
  rows: Claimed[];
  /** The lease written on the rows: outcomes are written only where it still holds. */
  lease: Date;
  nextAt: Date | null;
}

const toDate = (v: string | Date | null | undefined): Date | null => (v ? new Date(v) : null);

function claimOf(rows: ClaimRow[], lease: Date): Claim | null {
  const first = rows[0];
  if (!first) return null;
  return {
    endpoint: {
      id: first.endpoint_id,
      enabled: first.enabled,
      url: first.url,
      secretEncrypted: first.secret_encrypted,
      previousSecretEncrypted: first.previous_secret_encrypted,
      previousSecretExpiresAt: toDate(first.previous_secret_expires_at),
      failingSince: toDate(first.failing_since),
    },
    rows: rows
      .filter((r) => r.id !== null)
      .map((r) => ({ id: r.id!, eventId: r.event_id!, payload: r.payload!, attempts: r.attempts! })),
    lease,
    nextAt: toDate(first.next_at),
  };
}

const endpointColumns = sql.raw(
  'e.id as endpoint_id, e.enabled, e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at, e.failing_since',
);

/**
 * Claims up to `limit` due rows of the endpoint, oldest due first, in one statement that also reads the endpoint
 * and when its next row not yet due falls due. Null when the endpoint is gone.
 */
async function claimDue(ctx: TenantContext, settings: DeliverySettings, endpointId: number, limit: number) {
  const s = sql.identifier(ctx.tenant.schemaName);
  const now = new Date();
  const lease = new Date(now.getTime() + settings.timeoutMs + LEASE_EXTRA_MS);
  const rows = await rawRows<ClaimRow>(
    ctx.db,
    sql`with c as (
          update ${s}.webhook_deliveries set locked_until = ${lease}
           where id in (select id from ${s}.webhook_deliveries
                         where endpoint_id = ${endpointId} and status = 'pending' and next_attempt_at <= ${now}
                           and (locked_until is null or locked_until < ${now})
                         order by next_attempt_at, id
                         limit ${limit}
                         for update skip locked)
          returning id, event_id, payload, attempts, next_attempt_at),
        n as (select min(next_attempt_at) as next_at from ${s}.webhook_deliveries
               where endpoint_id = ${endpointId} and status = 'pending' and next_attempt_at > ${now})
        select ${endpointColumns}, n.next_at, c.id, c.event_id, c.payload, c.attempts
          from ${s}.webhook_endpoints e cross join n left join c on true
         where e.id = ${endpointId}
         order by c.next_attempt_at, c.id`,
  );
  return claimOf(rows, lease);
}

/** Claims one row by id: if it is due (or `force`: a replay sends it now), pending and not in flight. */
async function claimOne(ctx: TenantContext, settings: DeliverySettings, id: number, force: boolean) {
  const s = sql.identifier(ctx.tenant.schemaName);
  const now = new Date();
  const lease = new Date(now.getTime() + settings.timeoutMs + LEASE_EXTRA_MS);
  const rows = await rawRows<ClaimRow>(
    ctx.db,
    sql`with c as (
          update ${s}.webhook_deliveries set locked_until = ${lease}
           where id = ${id} and status = 'pending' and (locked_until is null or locked_until < ${now})
             ${force ? sql`` : sql`and next_attempt_at <= ${now}`}
          returning id, endpoint_id, event_id, payload, attempts)
        select ${endpointColumns}, c.id, c.event_id, c.payload, c.attempts
          from c join ${s}.webhook_endpoints e on e.id = c.endpoint_id`,
  );
  return claimOf(rows, lease);
}

// ---- Sending a claimed batch, and writing what came of it ----

interface RowOutcome {
  id: number;
  /** Null: not attempted (the batch stopped first); the row is only let go. */
  status: 'succeeded' | 'failed' | 'pending' | null;
  attempts: number;
  nextAt: Date | null;
  error: string | null;
  attempt: { at: Date; response: WebhookResponse } | null;
  /** For the single-attempt API. */
  kind: AttemptOutcome['kind'];
  delayMs?: number;
}

const DISABLED = 'the endpoint is disabled';

/** Sends the claimed rows, writes their outcomes in one statement, and disables the endpoint if it must. */
async function deliverClaim(ctx: TenantContext, settings: DeliverySettings, claim: Claim): Promise<RowOutcome[]> {
  const { endpoint } = claim;
  const key = `${ctx.tenant.schemaName}:${endpoint.id}`;
  const outcomes: RowOutcome[] = [];
  const unsent = (row: Claimed, status: RowOutcome['status'], error: string | null): RowOutcome => ({
    id: row.id,
    status,
    attempts: row.attempts,
    nextAt: null,
    error,
    attempt: null,
    kind: status === 'failed' ? 'failed' : 'skipped',
  });
  if (!endpoint.enabled) {
    for (const row of claim.rows) outcomes.push(unsent(row, 'failed', DISABLED));
    await writeOutcomes(ctx, claim, outcomes, { failingSince: undefined });
    return outcomes;
  }

  const secrets = secretsOf(ctx, endpoint);
  const lastStart = claim.lease.getTime() - settings.timeoutMs - LEASE_MARGIN_MS;
  // Set by a 410 or by the failure clock running out: no further row of the batch is sent.
  let disableReason: string | null = null;
  let next = 0;
  const lane = async () => {
    for (;;) {
      await acquire(key, settings.endpointConcurrency);
      const row = claim.rows[next];
      if (!row || disableReason || Date.now() > lastStart) {
        release(key);
        return;
      }
      next += 1;
      const at = new Date();
      let response: WebhookResponse;
      try {
        response = await sendWebhook({
          url: endpoint.url,
          id: row.eventId,
          body: row.payload,
          secrets,
          timeoutMs: settings.timeoutMs,
          allowPrivate: settings.allowPrivate,
        });
      } finally {
        release(key);
      }
      notePace(key, response.durationMs);
      const attempts = row.attempts + 1;
      const ok = response.statusCode !== null && response.statusCode >= 200 && response.statusCode < 300;
      const error = ok ? null : (response.error ?? `the receiver answered ${response.statusCode}`);
      const attempt = { at, response };
      if (ok) {
        outcomes.push({ id: row.id, status: 'succeeded', attempts, nextAt: null, error, attempt, kind: 'delivered' });
        continue;
      }
      if (response.statusCode === 410) {
        disableReason ??= 'the receiver answered 410 Gone';
        outcomes.push({ id: row.id, status: 'failed', attempts, nextAt: null, error, attempt, kind: 'failed' });
        continue;
      }
      // Failing since the first failure after the last success; past WEBHOOK_DISABLE_AFTER_MS, disabled.
      if (endpoint.failingSince && at.getTime() - endpoint.failingSince.getTime() >= settings.disableAfterMs)
        disableReason ??= `every attempt failed for ${Math.round(settings.disableAfterMs / 3_600_000)} h`;
      const delayMs = retryDelayMs(settings, attempts);
      outcomes.push(
        delayMs === null
          ? { id: row.id, status: 'failed', attempts, nextAt: null, error, attempt, kind: 'failed' }
          : {
              id: row.id,
              status: 'pending',
              attempts,
              nextAt: new Date(Date.now() + delayMs),
              error,
              attempt,
              kind: 'retry',
              delayMs,
            },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.endpointConcurrency, claim.rows.length) }, lane));

  // The endpoint's failure clock, from the attempts in the order they were made.
  const made = outcomes.filter((o) => o.attempt).sort((a, b) => a.attempt!.at.getTime() - b.attempt!.at.getTime());
  let failingSince: Date | null | undefined;
  if (made.length) {
    const lastSuccess = made.findLastIndex((o) => o.status === 'succeeded');
    const firstFailure = made[lastSuccess + 1]?.attempt?.at ?? null;
    failingSince = lastSuccess >= 0 ? firstFailure : (endpoint.failingSince ?? firstFailure);
  }
  if (!disableReason && failingSince && Date.now() - failingSince.getTime() >= settings.disableAfterMs)
    disableReason = `every attempt failed for ${Math.round(settings.disableAfterMs / 3_600_000)} h`;
  // Rows the batch did not get to are let go (or failed, the endpoint being disabled); once it is disabled, the
  // batch's retries are not kept either.
  const attempted = new Set(outcomes.map((o) => o.id));
  for (const row of claim.rows)
    if (!attempted.has(row.id)) outcomes.push(unsent(row, disableReason ? 'failed' : null, disableReason && DISABLED));
  if (disableReason)
    for (const o of outcomes)
      if (o.status === 'pending') Object.assign(o, { status: 'failed', nextAt: null, kind: 'failed' });
  await writeOutcomes(ctx, claim, outcomes, { failingSince });
  if (disableReason) await disableEndpoint(ctx, endpoint, disableReason);
  return outcomes;
}

/**
 * One statement: the attempts logged, each row's outcome written (where this batch's lease still holds: a worker
 * that lost its lease to a pause must not overwrite a later attempt's outcome), rows not attempted let go, and the
 * endpoint's failure clock set (`failingSince`: undefined leaves it alone).
 */
async function writeOutcomes(
  ctx: TenantContext,
  claim: Claim,
  outcomes: RowOutcome[],
  options: { failingSince: Date | null | undefined },
): Promise<void> {
  if (!outcomes.length) return;
  const s = sql.identifier(ctx.tenant.schemaName);
  const rows = outcomes.map((o) => ({
    id: o.id,
    status: o.status,
    attempts: o.attempts,
    next_at: o.nextAt?.toISOString() ?? null,
    error: o.error,
    sent: o.attempt !== null,
    at: o.attempt?.at.toISOString() ?? null,
    code: o.attempt?.response.statusCode ?? null,
    ms: o.attempt?.response.durationMs ?? null,
    body: o.attempt?.response.body ?? null,
    attempt_error: o.attempt?.response.error ?? (o.attempt ? o.error : null),
  }));
  const touch = options.failingSince !== undefined;
  const failingSince = options.failingSince ?? null;
  await ctx.db.execute(
    sql`with o as (
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as o(id int, status text, attempts int, next_at timestamptz, error text, sent boolean,
                 at timestamptz, code int, ms int, body text, attempt_error text)),
        u as (
          update ${s}.webhook_deliveries d
             set status = coalesce(o.status, d.status),
                 attempts = o.attempts,
                 next_attempt_at = case when o.status is null then d.next_attempt_at else o.next_at end,
                 locked_until = null,
                 last_attempt_at = case when o.sent then o.at else d.last_attempt_at end,
                 last_status_code = case when o.sent then o.code else d.last_status_code end,
                 last_error = case when o.status is null then d.last_error else o.error end
            from o
           where d.id = o.id and d.locked_until = ${claim.lease}
          returning d.id),
        a as (
          insert into ${s}.webhook_delivery_attempts
                 (delivery_id, attempted_at, status_code, duration_ms, response_body, error)
          select o.id, o.at, o.code, o.ms, o.body, o.attempt_error
            from o join u on u.id = o.id
           where o.sent
           order by o.at, o.id)
        update ${s}.webhook_endpoints
           set failing_since = ${failingSince}::timestamptz
         where ${touch} and id = ${claim.endpoint.id}
           and failing_since is distinct from ${failingSince}::timestamptz`,
  );
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

// ---- What the worker calls ----

/**
 * Sends the endpoint's due deliveries, batch after batch, until none is due or the run's time is up. Returns what
 * is left, for `deliverEndpoint` to queue.
 */
export async function deliverDue(
  ctx: TenantContext,
  settings: DeliverySettings,
  endpointId: number,
  options: { budgetMs?: number } = {},
): Promise<DueOutcome> {
  const started = Date.now();
  const key = `${ctx.tenant.schemaName}:${endpointId}`;
  let sent = 0;
  for (;;) {
    const claim = await claimDue(ctx, settings, endpointId, batchSize(key, settings.endpointConcurrency));
    if (!claim) return { sent, more: false, nextAt: null };
    if (!claim.rows.length) return { sent, more: false, nextAt: claim.nextAt };
    const outcomes = await deliverClaim(ctx, settings, claim);
    sent += outcomes.filter((o) => o.attempt).length;
    if (Date.now() - started >= (options.budgetMs ?? RUN_BUDGET_MS)) return { sent, more: true, nextAt: null };
  }
}

/**
 * When a retry's wake fires: the due time rounded up to a step of about 5 % of the wait (at least 100 ms, at most a
 * minute), so the retries of many deliveries share a few wakes instead of one job each.
 */
export function wakeTime(at: Date, now = Date.now()): number {
  const step = Math.min(60_000, Math.max(100, Math.round((at.getTime() - now) * 0.05)));
  return Math.ceil(at.getTime() / step) * step;
}

/**
 * The `webhook-delivery` job: sends what is due (`deliverDue`), then wakes the endpoint again at once if its time
 * was up, and when its next retry falls due. A wake that cannot be queued is left to the sweeper.
 */
export async function deliverEndpoint(
  ctx: TenantContext,
  settings: DeliverySettings,
  endpointId: number,
  job: { key?: string | undefined } = {},
): Promise<DueOutcome> {
  const outcome = await deliverDue(ctx, settings, endpointId);
  try {
    if (outcome.more) await ctx.queues.add('webhook-delivery', { tenant: ctx.tenant.slug, endpoint_id: endpointId });
    if (outcome.nextAt) await queueRetryWake(ctx, endpointId, outcome.nextAt, job.key);
  } catch (err) {
    ctx.log.warn({ err: String(err), endpoint_id: endpointId }, 'webhook retry not queued; the sweeper will');
  }
  return outcome;
}

async function queueRetryWake(ctx: TenantContext, endpointId: number, at: Date, currentKey?: string) {
  const when = wakeTime(at);
  let key = `t${when.toString(36)}`;
  // The wake running now cannot queue itself again under its own id.
  if (key === currentKey) key += '+';
  await ctx.queues.add(
    'webhook-delivery',
    { tenant: ctx.tenant.slug, endpoint_id: endpointId, key },
    { delayMs: Math.max(0, when - Date.now()) },
  );
}

/**
 * One attempt at one delivery, if it is due (or `force`: a replay sends it now) and not in flight; waits for one
 * of the endpoint's slots in this process. The same claim, send and outcome statement as a batch of one.
 */
export async function attemptDelivery(
  ctx: TenantContext,
  settings: DeliverySettings,
  id: number,
  options: { force?: boolean } = {},
): Promise<AttemptOutcome> {
  const claim = await claimOne(ctx, settings, id, options.force ?? false);
  if (!claim?.rows.length) return { kind: 'skipped' };
  const [outcome] = await deliverClaim(ctx, settings, claim);
  if (!outcome) return { kind: 'skipped' };
  if (outcome.kind === 'retry') return { kind: 'retry', attempts: outcome.attempts, delayMs: outcome.delayMs ?? 0 };
  return { kind: outcome.kind };
}

/** One attempt (`attemptDelivery`), and a wake of its endpoint for when its retry falls due. */
export async function deliverAndSchedule(
  ctx: TenantContext,
  settings: DeliverySettings,
  id: number,
  endpointId: number,
  options: { force?: boolean } = {},
): Promise<AttemptOutcome> {
  const outcome = await attemptDelivery(ctx, settings, id, options);
  if (outcome.kind === 'retry')
    await queueRetryWake(ctx, endpointId, new Date(Date.now() + outcome.delayMs)).catch((err: unknown) =>
      ctx.log.warn({ err: String(err), delivery_id: id }, 'webhook retry not queued; the sweeper will'),
    );
  return outcome;
}
