/** The delivery log and what an admin does with it: list, retry one, replay since a time, send a test event. */
import { and, asc, desc, eq, gte, inArray, lt, lte, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { AppError, notFound } from '../platform/errors.js';
import { newEventId, webhookBody } from '../platform/outbox.js';
import { decodeCursor, type Page, toPage } from '../platform/pagination.js';
import { deliverAndSchedule } from './deliver.js';
import type { DeliverySettings } from './settings.js';
import { findEndpoint } from './endpoints.js';

type DeliveryRow = TenantContext['tenant']['tables']['webhookDeliveries']['$inferSelect'];
type AttemptRow = TenantContext['tenant']['tables']['webhookDeliveryAttempts']['$inferSelect'];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function attemptView(r: AttemptRow) {
  return {
    attempted_at: r.attemptedAt.toISOString(),
    status_code: r.statusCode,
    duration_ms: r.durationMs,
    response_body: r.responseBody,
    error: r.error,
  };
}

export function deliveryView(r: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: r.id,
    endpoint_id: r.endpointId,
    event_id: r.eventId,
    event_type: r.eventType,
    status: r.status as 'pending' | 'succeeded' | 'failed',
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    next_attempt_at: iso(r.nextAttemptAt),
    last_status_code: r.lastStatusCode,
    last_error: r.lastError,
    created_at: r.createdAt.toISOString(),
    /** Every attempt, oldest first. */
    attempts: attempts.map(attemptView),
  };
}
export type DeliveryView = ReturnType<typeof deliveryView>;

async function attemptsOf(ctx: TenantContext, ids: number[]): Promise<Map<number, AttemptRow[]>> {
  const a = ctx.tenant.tables.webhookDeliveryAttempts;
  const out = new Map<number, AttemptRow[]>();
  if (!ids.length) return out;
  const rows = await ctx.db.select().from(a).where(inArray(a.deliveryId, ids)).orderBy(asc(a.id));
  for (const row of rows) {
    const list = out.get(row.deliveryId) ?? [];
    list.push(row);
    out.set(row.deliveryId, list);
  }
  return out;
}

export interface DeliveryQuery {
  limit: number;
  cursor?: string | undefined;
  status?: 'pending' | 'succeeded' | 'failed' | undefined;
  event_type?: string | undefined;
}

/** The endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(
  ctx: TenantContext,
  endpointId: number,
  query: DeliveryQuery,
): Promise<Page<DeliveryView>> {
  await findEndpoint(ctx, endpointId);
  const d = ctx.tenant.tables.webhookDeliveries;
  const before = query.cursor ? (decodeCursor(query.cursor, ['int'])[0] as number) : null;
  const rows = await ctx.db
    .select()
    .from(d)
    .where(
      and(
        eq(d.endpointId, endpointId),
        before === null ? undefined : lt(d.id, before),
        query.status ? eq(d.status, query.status) : undefined,
        query.event_type ? eq(d.eventType, query.event_type) : undefined,
      ),
    )
    .orderBy(desc(d.id))
    .limit(query.limit + 1);
  const attempts = await attemptsOf(
    ctx,
    rows.slice(0, query.limit).map((r) => r.id),
  );
  return toPage(
    rows,
    query.limit,
    (r) => [r.id],
    (r) => deliveryView(r, attempts.get(r.id) ?? []),
  );
}

export async function findDelivery(ctx: TenantContext, id: number): Promise<DeliveryView> {
  const d = ctx.tenant.tables.webhookDeliveries;
  const [row] = await ctx.db.select().from(d).where(eq(d.id, id));
  if (!row) throw notFound(`webhook delivery ${id}`);
  return deliveryView(row, (await attemptsOf(ctx, [id])).get(id) ?? []);
}

/** Sends the delivery again now; a finished one starts a new round of the retry schedule. */
export async function retryDelivery(ctx: TenantContext, id: number): Promise<DeliveryView> {
  const d = ctx.tenant.tables.webhookDeliveries;
  const [row] = await ctx.db
    .update(d)
    .set({
      status: 'pending',
      attempts: sql`case when ${d.status} = 'pending' then ${d.attempts} else 0 end`,
      nextAttemptAt: new Date(),
    })
    .where(eq(d.id, id))
    .returning();
  if (!row) throw notFound(`webhook delivery ${id}`);
  await ctx.queues.add('webhook-delivery', { tenant: ctx.tenant.slug, endpoint_id: row.endpointId });
  return findDelivery(ctx, id);
}

/** A `webhook.test` event to this endpoint only. */
export async function sendTestEvent(ctx: TenantContext, endpointId: number): Promise<DeliveryView> {
  const endpoint = await findEndpoint(ctx, endpointId);
  if (!endpoint.enabled) throw new AppError('conflict', 'the endpoint is disabled; enable it first');
  const d = ctx.tenant.tables.webhookDeliveries;
  const now = new Date();
  const [row] = await ctx.db
    .insert(d)
    .values({
      endpointId,
      eventId: newEventId(),
      eventType: 'webhook.test',
      payload: webhookBody(
        'webhook.test',
        { endpoint_id: endpointId, message: 'A test event: this endpoint receives signed webhooks.' },
        now,
      ),
      nextAttemptAt: now,
      createdAt: now,
    })
    .returning();
  await ctx.queues.add('webhook-delivery', { tenant: ctx.tenant.slug, endpoint_id: endpointId });
  return deliveryView(row!, []);
}

// A replayed delivery waits for the replay job this long before the sweeper would send it on its own.
const REPLAY_HOLD_MS = 3_600_000;

/**
 * Every delivery of the endpoint created at or after `since`, sent again with its original `webhook-id`, one
 * after another in their original order by the `webhook-replay` job. Returns how many.
 */
export async function replayDeliveries(
  ctx: TenantContext,
  endpointId: number,
  since: Date,
): Promise<{ replayed: number }> {
  const endpoint = await findEndpoint(ctx, endpointId);
  if (!endpoint.enabled) throw new AppError('conflict', 'the endpoint is disabled; enable it first');
  const d = ctx.tenant.tables.webhookDeliveries;
  const rows = await ctx.db
    .update(d)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: new Date(Date.now() + REPLAY_HOLD_MS) })
    .where(and(eq(d.endpointId, endpointId), gte(d.createdAt, since)))
    .returning({ id: d.id });
  if (rows.length) {
    const through = Math.max(...rows.map((r) => r.id));
    await ctx.queues.add('webhook-replay', {
      tenant: ctx.tenant.slug,
      endpoint_id: endpointId,
      since: since.toISOString(),
      through_id: through,
    });
  }
  return { replayed: rows.length };
}

/** The `webhook-replay` job: the held deliveries in id order, each attempted before the next. */
export async function runReplay(
  ctx: TenantContext,
  settings: DeliverySettings,
  job: { endpoint_id: number; since: string; through_id: number },
): Promise<void> {
  const d = ctx.tenant.tables.webhookDeliveries;
  const rows = await ctx.db
    .select({ id: d.id })
    .from(d)
    .where(
      and(
        eq(d.endpointId, job.endpoint_id),
        eq(d.status, 'pending'),
        gte(d.createdAt, new Date(job.since)),
        lte(d.id, job.through_id),
      ),
    )
    .orderBy(asc(d.id));
  // One at a time: each waits for one of the endpoint's slots, so a later event never overtakes an earlier one.
  for (const { id } of rows) await deliverAndSchedule(ctx, settings, id, job.endpoint_id, { force: true });
}

/**
 * The sweeper: endpoints with deliveries due for longer than `graceMs` and in no attempt are woken again (their
 * wake was never queued, Redis lost it, a worker died mid-batch and its lease ran out). Its wakes have an id of
 * their own (`s…`, one per second), so they never wait behind a wake-up that Redis may have lost; the claim holds
 * either way, so several sweeps at once cost statements, not duplicate sends. Returns how many endpoints.
 */
export async function sweepDeliveries(ctx: TenantContext, graceMs: number, limit = 500): Promise<number> {
  const now = new Date();
  const rows = await rawRows<{ endpoint_id: number }>(
    ctx.db,
    sql`select distinct endpoint_id from ${sql.identifier(ctx.tenant.schemaName)}.webhook_deliveries
         where status = 'pending' and next_attempt_at < ${new Date(now.getTime() - graceMs)}
           and (locked_until is null or locked_until < ${now})
         limit ${limit}`,
  );
  const key = `s${Math.floor(now.getTime() / 1000).toString(36)}`;
  for (const row of rows)
    await ctx.queues.add('webhook-delivery', { tenant: ctx.tenant.slug, endpoint_id: row.endpoint_id, key });
  return rows.length;
}

/**
 * The retention: finished deliveries (succeeded or failed) created more than `retentionDays` ago are deleted with
 * their attempts (the foreign key cascades), `batch` rows per statement, oldest first, until none is left or
 * `maxBatches` statements have run (the next run goes on). Pending deliveries are kept whatever their age. Returns
 * how many deliveries.
 */
export async function pruneDeliveries(
  ctx: TenantContext,
  retentionDays: number,
  options: { batch?: number; maxBatches?: number } = {},
): Promise<number> {
  const s = sql.identifier(ctx.tenant.schemaName);
  const before = new Date(Date.now() - retentionDays * 86_400_000);
  const batch = options.batch ?? 1_000;
  let deleted = 0;
  for (let i = 0; i < (options.maxBatches ?? 100); i++) {
    const rows = await rawRows<{ n: number }>(
      ctx.db,
      sql`with gone as (
            delete from ${s}.webhook_deliveries
             where id in (select id from ${s}.webhook_deliveries
                           where created_at < ${before} and status <> 'pending'
                           order by created_at
                           limit ${batch})
            returning 1)
          select count(*)::int as n from gone`,
    );
    const n = rows[0]?.n ?? 0;
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}
