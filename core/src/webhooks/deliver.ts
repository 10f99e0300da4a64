/**
 * Delivering outgoing webhooks in batches (docs/adr/0009-outgoing-webhooks.md). The delivery rows are the queue: a
 * `webhook-delivery` job wakes one endpoint, and `deliverDue` claims a batch of that endpoint's due rows in one
 * statement (`FOR UPDATE SKIP LOCKED`, and a lease in `locked_until`), sends them at most
 * WEBHOOK_ENDPOINT_CONCURRENCY at a time from this process, and writes every outcome (the attempt log, the rows,
 * the endpoint's failure clock) in one statement, until nothing is due; the next batch is claimed while the last
 * rows of the one before are still in flight, so the sends never wait for the database. The lease keeps a
 * duplicated job, the sweeper's wake or a second worker from sending a delivery twice at once; a worker killed
 * mid-batch frees its rows when the lease expires, and the sweeper wakes their endpoint again (at least once; the
 * `webhook-id` lets receivers dedupe).
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
  /** Stopped by its time budget before it ran dry, or rows let go (a lease too short): wake the endpoint again. */
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

// ---- A run: claimed batches sent through the endpoint's lanes, and their outcomes written ----

interface RowOutcome {
  id: number;
  /** Null: not attempted (the run stopped first); the row is only let go. */
  status: 'succeeded' | 'failed' | 'pending' | null;
  attempts: number;
  nextAt: Date | null;
  error: string | null;
  attempt: { at: Date; response: WebhookResponse } | null;
  /** For the single-attempt API. */
  kind: AttemptOutcome['kind'];
  delayMs?: number;
}

interface Batch {
  claim: Claim;
  /** The secrets that sign its requests. */
  secrets: string[];
  /** The next row to send. */
  next: number;
  /** Rows taken and not finished. */
  inFlight: number;
  outcomes: RowOutcome[];
  written: boolean;
}

const DISABLED = 'the endpoint is disabled';

/**
 * One endpoint's run: `WEBHOOK_ENDPOINT_CONCURRENCY` lanes take rows from the claimed batch, and the next batch
 * is claimed while the last rows of this one are still being sent, so the lanes never wait for the database; each
 * batch's outcomes are written in one statement as soon as its last row is done, one batch after another.
 */
class EndpointRun {
  private current: Batch | null = null;
  private upcoming: Promise<Claim | null> | null = null;
  private readonly adopted = new WeakSet<Claim>();
  /** No more claims: nothing more due, the endpoint gone, the run's time up, or stopped. */
  private exhausted = false;
  private disableReason: string | null = null;
  private endpoint: Endpoint | null = null;
  /** The endpoint's failure clock as this run's attempts move it (undefined: no attempt yet). */
  private failingSince: Date | null | undefined;
  private lastNextAt: Date | null = null;
  /** A claim found nothing due (or the endpoint gone). */
  private dry = false;
  /** The run's time was up before it ran dry. */
  private outOfTime = false;
  private writes: Promise<void> = Promise.resolve();
  /** The first failure of a statement (a claim or a write): the run ends, and the job fails with it. */
  private failure: unknown = null;
  private readonly batches: Batch[] = [];
  readonly outcomes: RowOutcome[] = [];
  private readonly key: string;
  private readonly started = Date.now();

  constructor(
    private readonly ctx: TenantContext,
    private readonly settings: DeliverySettings,
    endpointId: number,
    /** Claims the next batch; null for a run of one claim only. */
    private readonly claimNext: (() => Promise<Claim | null>) | null,
    private readonly budgetMs = RUN_BUDGET_MS,
  ) {
    this.key = `${ctx.tenant.schemaName}:${endpointId}`;
  }

  /** Sends `first` (and, with `claimNext`, every batch after it); resolves once every outcome is written. */
  async run(first: Claim | null): Promise<DueOutcome> {
    this.upcoming = Promise.resolve(first);
    const lanes = Array.from({ length: this.settings.endpointConcurrency }, () => this.lane());
    await Promise.all(lanes);
    // Batches the run stopped in (the endpoint being disabled): their rows not started.
    for (const batch of this.batches) this.maybeFinish(batch);
    // A batch claimed ahead and never started: let go of its rows (failed, if the endpoint is being disabled).
    const left = this.upcoming ? await this.upcoming : null;
    if (left && !this.adopted.has(left)) {
      if (left.rows.length) this.finishUnstarted(this.adopt(left), this.disableReason ? DISABLED : null);
      else this.lastNextAt = left.nextAt;
    }
    await this.writes;
    if (this.failure) throw this.failure;
    if (this.disableReason && this.endpoint) await disableEndpoint(this.ctx, this.endpoint, this.disableReason);
    // The next wake: the soonest of this run's retries and of the rows not yet due when it last looked.
    let soonest = this.lastNextAt?.getTime() ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    let released = false;
    for (const o of this.outcomes) {
      if (o.attempt) sent += 1;
      if (o.status === null) released = true;
      if (o.status === 'pending' && o.nextAt && o.nextAt.getTime() < soonest) soonest = o.nextAt.getTime();
    }
    return {
      sent,
      // Rows let go (a lease too short), or the run's time up before the endpoint ran dry: wake it again now.
      more: !this.disableReason && (released || (this.outOfTime && !this.dry)),
      nextAt: Number.isFinite(soonest) ? new Date(soonest) : null,
    };
  }

  private adopt(claim: Claim): Batch {
    this.adopted.add(claim);
    this.endpoint = claim.endpoint;
    if (this.failingSince === undefined && claim.endpoint.failingSince) this.failingSince = claim.endpoint.failingSince;
    const secrets = claim.endpoint.enabled ? secretsOf(this.ctx, claim.endpoint) : [];
    const batch = { claim, secrets, next: 0, inFlight: 0, outcomes: [], written: false };
    this.batches.push(batch);
    return batch;
  }

  /** The next row to send and its batch, or null when the run is over for this lane. */
  private async take(): Promise<{ batch: Batch; row: Claimed } | null> {
    for (;;) {
      if (this.disableReason) return null;
      const batch = this.current;
      if (batch && batch.next < batch.claim.rows.length) {
        const row = batch.claim.rows[batch.next++]!;
        batch.inFlight += 1;
        // The last rows of this batch are on their way: claim the next one now, so it is there when they end.
        if (batch.claim.rows.length - batch.next <= this.settings.endpointConcurrency) this.claimAhead();
        return { batch, row };
      }
      if (!this.upcoming) {
        this.claimAhead();
        if (!this.upcoming) return null;
      }
      const claim = await this.upcoming;
      if (claim && this.adopted.has(claim)) continue; // another lane took it up meanwhile
      this.upcoming = null;
      if (!claim?.rows.length) {
        this.exhausted = true;
        this.dry = true;
        this.lastNextAt = claim?.nextAt ?? null;
        return null;
      }
      const next = this.adopt(claim);
      if (!claim.endpoint.enabled) {
        this.finishUnstarted(next, DISABLED);
        continue;
      }
      this.current = next;
    }
  }

  private claimAhead(): void {
    if (this.upcoming || this.exhausted || !this.claimNext) return;
    if (Date.now() - this.started >= this.budgetMs) {
      this.exhausted = true;
      this.outOfTime = true;
      return;
    }
    this.upcoming = this.claimNext().catch((err: unknown) => {
      this.failure ??= err;
      return null;
    });
  }

  private async lane(): Promise<void> {
    for (;;) {
      await acquire(this.key, this.settings.endpointConcurrency);
      const taken = await this.take();
      if (!taken) {
        release(this.key);
        return;
      }
      const { batch, row } = taken;
      const lastStart = batch.claim.lease.getTime() - this.settings.timeoutMs - LEASE_MARGIN_MS;
      if (Date.now() > lastStart) {
        // The lease is too close to its end for a whole attempt: let the row go rather than risk a second sender.
        release(this.key);
        this.record(batch, this.unsent(row, null, null));
        continue;
      }
      const at = new Date();
      let response: WebhookResponse;
      try {
        response = await sendWebhook({
          url: batch.claim.endpoint.url,
          id: row.eventId,
          body: row.payload,
          secrets: batch.secrets,
          timeoutMs: this.settings.timeoutMs,
          allowPrivate: this.settings.allowPrivate,
        });
      } finally {
        release(this.key);
      }
      notePace(this.key, response.durationMs);
      this.record(batch, this.outcomeOf(row, at, response));
    }
  }

  private unsent(row: Claimed, status: RowOutcome['status'], error: string | null): RowOutcome {
    return {
      id: row.id,
      status,
      attempts: row.attempts,
      nextAt: null,
      error,
      attempt: null,
      kind: status === 'failed' ? 'failed' : 'skipped',
    };
  }

  /** What an answer means for the row, and for the endpoint's failure clock. */
  private outcomeOf(row: Claimed, at: Date, response: WebhookResponse): RowOutcome {
    const attempts = row.attempts + 1;
    const attempt = { at, response };
    const ok = response.statusCode !== null && response.statusCode >= 200 && response.statusCode < 300;
    if (ok) {
      this.failingSince = null;
      return { id: row.id, status: 'succeeded', attempts, nextAt: null, error: null, attempt, kind: 'delivered' };
    }
    const error = response.error ?? `the receiver answered ${response.statusCode}`;
    if (response.statusCode === 410) {
      this.disableReason ??= 'the receiver answered 410 Gone';
      return { id: row.id, status: 'failed', attempts, nextAt: null, error, attempt, kind: 'failed' };
    }
    // Failing since the first failure after the last success; past WEBHOOK_DISABLE_AFTER_MS, disabled.
    this.failingSince ??= at;
    if (Date.now() - this.failingSince.getTime() >= this.settings.disableAfterMs)
      this.disableReason ??= `every attempt failed for ${Math.round(this.settings.disableAfterMs / 3_600_000)} h`;
    const delayMs = retryDelayMs(this.settings, attempts);
    if (delayMs === null)
      return { id: row.id, status: 'failed', attempts, nextAt: null, error, attempt, kind: 'failed' };
    const nextAt = new Date(Date.now() + delayMs);
    return { id: row.id, status: 'pending', attempts, nextAt, error, attempt, kind: 'retry', delayMs };
  }

  private record(batch: Batch, outcome: RowOutcome): void {
    batch.outcomes.push(outcome);
    this.outcomes.push(outcome);
    batch.inFlight -= 1;
    if (this.disableReason || batch.next >= batch.claim.rows.length) this.maybeFinish(batch);
  }

  /** Once every row of the batch is done (or the run stopped and none is in flight): its outcomes written. */
  private maybeFinish(batch: Batch): void {
    if (batch.inFlight > 0 || batch.written) return;
    batch.written = true;
    // Rows not started: let go, or failed when the endpoint is being disabled.
    for (const row of batch.claim.rows.slice(batch.next)) {
      const o = this.unsent(row, this.disableReason ? 'failed' : null, this.disableReason ? DISABLED : null);
      batch.outcomes.push(o);
      this.outcomes.push(o);
    }
    batch.next = batch.claim.rows.length;
    // Once the endpoint is being disabled, the retries are not kept either.
    if (this.disableReason)
      for (const o of batch.outcomes)
        if (o.status === 'pending') Object.assign(o, { status: 'failed', nextAt: null, kind: 'failed' });
    const failingSince = batch.outcomes.some((o) => o.attempt) ? (this.failingSince ?? null) : undefined;
    this.write(batch, failingSince);
  }

  /** A batch none of whose rows is sent: let go, or failed with `error`. */
  private finishUnstarted(batch: Batch, error: string | null): void {
    for (const row of batch.claim.rows) {
      const o = this.unsent(row, error ? 'failed' : null, error);
      batch.outcomes.push(o);
      this.outcomes.push(o);
    }
    batch.next = batch.claim.rows.length;
    batch.written = true;
    this.write(batch, undefined);
  }

  /** Queues the batch's outcome statement behind the run's earlier ones (a failure is kept for the end). */
  private write(batch: Batch, failingSince: Date | null | undefined): void {
    this.writes = this.writes
      .then(() => writeOutcomes(this.ctx, batch.claim, batch.outcomes, { failingSince }))
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }
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
  const key = `${ctx.tenant.schemaName}:${endpointId}`;
  const claim = () => claimDue(ctx, settings, endpointId, batchSize(key, settings.endpointConcurrency));
  return new EndpointRun(ctx, settings, endpointId, claim, options.budgetMs).run(await claim());
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
  const run = new EndpointRun(ctx, settings, claim.endpoint.id, null);
  await run.run(claim);
  const outcome = run.outcomes[0];
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
