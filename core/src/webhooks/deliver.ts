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
import type { TenantContext } from '../platform/context.js';
import { type AttemptOutcome, claimDue, claimOne } from './delivery-rows.js';
import { batchSize, type DueOutcome, EndpointRun } from './endpoint-run.js';
import type { DeliverySettings } from './settings.js';

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
