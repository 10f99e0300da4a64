/**
 * One endpoint's run (docs/adr/0009-outgoing-webhooks.md): its claimed batches sent through at most
 * WEBHOOK_ENDPOINT_CONCURRENCY lanes in this process, batches sized to the endpoint's pace, the next one claimed
 * while the last rows of one are in flight, and each batch's outcomes written as soon as its last row is done.
 */
import type { TenantContext } from '../platform/context.js';
import {
  type Claim,
  type Claimed,
  disableEndpoint,
  type Endpoint,
  LEASE_MARGIN_MS,
  type RowOutcome,
  writeOutcomes,
} from './delivery-rows.js';
import { secretsOf } from './endpoints.js';
import { sendWebhook, type WebhookResponse } from './send.js';
import { type DeliverySettings, retryDelayMs } from './settings.js';

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
export function batchSize(key: string, concurrency: number): number {
  const ms = pace.get(key) ?? 50;
  return Math.max(concurrency, Math.min(MAX_BATCH, Math.floor((TARGET_BATCH_MS * concurrency) / Math.max(1, ms))));
}
function notePace(key: string, ms: number): void {
  if (pace.size >= 10_000) pace.clear();
  const prev = pace.get(key);
  pace.set(key, prev === undefined ? ms : prev * 0.8 + ms * 0.2);
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
export class EndpointRun {
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
