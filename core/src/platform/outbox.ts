/**
 * The outbox of outgoing webhooks (issue 15): an event one of the tenant's endpoints subscribes to becomes one
 * `webhook_deliveries` row per endpoint, written by the same executor as the change it describes, so a
 * transaction that commits the change commits its deliveries too, and one that rolls back leaves none. The rows
 * are the queue: after the commit each endpoint with new rows gets a `webhook-delivery` wake-up (one per endpoint,
 * deduplicated while one waits), whose job sends what is due in batches; if queueing fails (Redis away, the
 * process killed in between) the sweeper finds the rows and wakes their endpoint.
 *
 * Services that write in a transaction record their events there (`recordOutgoing(tx, …)` then `markRecorded`);
 * every other event is recorded by the context's bus (`outboxBus`) right after its change committed, just
 * before it is published.
 */
import { randomUUID } from 'node:crypto';
import { type Executor, rawRows, sql } from '@comms/db';
import type { DomainEvent, EventBus } from './bus/index.js';
import type { TenantContext } from './context.js';
import type { Logger } from './logger.js';
import type { Queues } from './queue/index.js';
import type { Tenant } from './tenants.js';

/** Events that never leave as webhooks: live-only (typing), one user's own notices, admin notices. */
export function isOutgoing(event: DomainEvent): boolean {
  return !event.ephemeral && !event.userIds && !event.adminsOnly;
}

/** The inbox channel an event is about (`whatsapp`, `email`, …), for endpoints with a channel filter. */
function channelOf(data: Record<string, unknown>): string | null {
  if (typeof data.channel === 'string') return data.channel;
  const conversation = data.conversation as { channel?: unknown } | undefined;
  return typeof conversation?.channel === 'string' ? conversation.channel : null;
}

/** A Standard Webhooks message id: `msg_` and 32 hex digits, the `webhook-id` of every attempt and replay. */
export function newEventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/** The request body every attempt of the delivery sends, byte for byte. */
export function webhookBody(type: string, data: unknown, at = new Date()): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

// Whether a tenant has an enabled endpoint at all, so that tenants without webhooks pay nothing on hot paths.
// Endpoint changes in this process clear it at once; another process sees them within the TTL (a subscription
// takes effect within that time; no event of an existing subscription is ever skipped by it, since disabling
// is the only change that can turn it off and skipping then is right).
const SUBSCRIBERS_TTL_MS = 2_000;
const subscribers = new Map<string, { any: boolean; until: number }>();

/** Forgets what this process knows of the tenant's endpoints (after one was created, changed or deleted). */
export function forgetSubscribers(schemaName: string): void {
  subscribers.delete(schemaName);
}

/** Whether the tenant may have endpoints to deliver to (true when unsure). */
export async function hasSubscribers(db: Executor, tenant: Tenant): Promise<boolean> {
  const known = subscribers.get(tenant.schemaName);
  if (known && known.until > Date.now()) return known.any;
  const e = tenant.tables.webhookEndpoints;
  const rows = await db.select({ id: e.id }).from(e).where(sql`${e.enabled}`).limit(1);
  subscribers.set(tenant.schemaName, { any: rows.length > 0, until: Date.now() + SUBSCRIBERS_TTL_MS });
  return rows.length > 0;
}

/**
 * Writes the deliveries of `events` for every enabled endpoint that subscribes to them, in one statement, in
 * the executor's transaction. Returns the endpoints that got deliveries, for `queueDeliveries` after commit.
 */
export async function recordOutgoing(db: Executor, tenant: Tenant, events: DomainEvent[]): Promise<number[]> {
  const outgoing = events.filter(isOutgoing);
  if (!outgoing.length) return [];
  if (!(await hasSubscribers(db, tenant))) return [];
  const now = new Date();
  const rows = outgoing.map((event, ord) => ({
    ord,
    event_id: newEventId(),
    type: event.type,
    channel: channelOf(event.data),
    payload: webhookBody(event.type, event.data, now),
  }));
  const s = sql.identifier(tenant.schemaName);
  const inserted = await rawRows<{ endpoint_id: number }>(
    db,
    sql`insert into ${s}.webhook_deliveries (endpoint_id, event_id, event_type, payload, next_attempt_at, created_at)
        select ep.id, e.event_id, e.type, e.payload, ${now}, ${now}
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
               as e(ord int, event_id text, type text, channel text, payload text)
        join ${s}.webhook_endpoints ep
          on ep.enabled
         and (ep.event_types is null or ep.event_types @> jsonb_build_array(e.type))
         and (ep.channels is null or (e.channel is not null and ep.channels @> jsonb_build_array(e.channel)))
        order by e.ord, ep.id
        returning endpoint_id`,
  );
  return [...new Set(inserted.map((r) => r.endpoint_id))];
}

/**
 * Wakes the delivery of each endpoint's due rows (a `webhook-delivery` job per endpoint, deduplicated while one
 * waits, and kept for after a running one); a failure is left to the sweeper (the rows are durable).
 */
export async function queueDeliveries(
  queues: Queues,
  tenant: string,
  endpointIds: number[],
  log: Logger,
): Promise<void> {
  for (const id of endpointIds) {
    try {
      await queues.add('webhook-delivery', { tenant, endpoint_id: id });
    } catch (err) {
      log.warn({ err: String(err), endpoint_id: id }, 'webhook deliveries not queued; the sweeper will');
      return;
    }
  }
}

// Events whose deliveries were written in their change's transaction: the bus must not write them again.
const recorded = new WeakSet<DomainEvent>();

/** Says that `events` are already in the outbox (written in their transaction by `recordOutgoing`). */
export function markRecorded(...events: DomainEvent[]): void {
  for (const event of events) recorded.add(event);
}

/**
 * The bus a tenant context publishes to: an event not recorded in its transaction gets its deliveries now (its
 * change has committed), then goes on to the realtime bus. Recording never stops the publication: if the
 * database refuses it, the realtime event still goes and the loss is logged.
 */
export function outboxBus(
  bus: EventBus,
  deps: { db: Executor; tenant: Tenant; queues: Queues; log: Logger },
): EventBus {
  return {
    publish: async (event) => {
      if (!recorded.has(event) && isOutgoing(event)) {
        try {
          const endpoints = await recordOutgoing(deps.db, deps.tenant, [event]);
          if (endpoints.length) await queueDeliveries(deps.queues, deps.tenant.slug, endpoints, deps.log);
        } catch (err) {
          deps.log.error({ err: String(err), type: event.type }, 'webhook deliveries of an event not recorded');
        }
      }
      return bus.publish(event);
    },
    subscribe: (handler, options) => bus.subscribe(handler, options),
    replay: (tenant, afterId) => bus.replay(tenant, afterId),
    close: () => bus.close(),
  };
}

/**
 * Runs `write` and records the deliveries of the events `eventsOf` derives from its result in the same
 * transaction (when the tenant has endpoints; otherwise `write` runs alone, as before), queues them after the
 * commit, and returns the result with its events, marked as recorded, for the caller to publish.
 */
export async function writeWithEvents<T>(
  ctx: Pick<TenantContext, 'db' | 'tenant' | 'queues' | 'log'>,
  write: (db: Executor) => Promise<T>,
  eventsOf: (result: T) => DomainEvent[],
): Promise<{ result: T; events: DomainEvent[] }> {
  if (!(await hasSubscribers(ctx.db, ctx.tenant))) {
    const result = await write(ctx.db);
    return { result, events: eventsOf(result) };
  }
  let endpoints: number[] = [];
  const out = await ctx.db.transaction(async (tx) => {
    const result = await write(tx);
    const events = eventsOf(result);
    endpoints = await recordOutgoing(tx, ctx.tenant, events);
    markRecorded(...events);
    return { result, events };
  });
  if (endpoints.length) void queueDeliveries(ctx.queues, ctx.tenant.slug, endpoints, ctx.log);
  return out;
}

/**
 * Runs `work` as one transaction whose events are recorded in it (the outbox) and published, in order, only after
 * it commits: for services that write in several statements and publish as they go (the team chat). The context
 * `work` gets has the transaction as its `db`, a bus that holds the events back and queues that hold the jobs back
 * (a job must not run before the rows it reads are visible; one that cannot be added then is logged, as the
 * services do); a rollback publishes and queues nothing. A tenant without endpoints runs `work` as it is.
 */
export async function withOutbox<T>(ctx: TenantContext, work: (scoped: TenantContext) => Promise<T>): Promise<T> {
  if (!(await hasSubscribers(ctx.db, ctx.tenant))) return work(ctx);
  const held: DomainEvent[] = [];
  const jobs: Parameters<Queues['add']>[] = [];
  let endpoints: number[] = [];
  const result = await ctx.db.transaction(async (tx) => {
    const bus: EventBus = {
      publish: async (event) => {
        held.push(event);
        return null;
      },
      subscribe: (handler, options) => ctx.bus.subscribe(handler, options),
      replay: (tenant, afterId) => ctx.bus.replay(tenant, afterId),
      close: () => ctx.bus.close(),
    };
    const queues: Queues = {
      kind: ctx.queues.kind,
      add: async (...job) => void jobs.push(job),
      process: (name, processor) => ctx.queues.process(name, processor),
      counts: () => ctx.queues.counts(),
      ping: () => ctx.queues.ping(),
      close: () => ctx.queues.close(),
    };
    const out = await work({ ...ctx, db: tx, bus, queues });
    // One statement for all of them; a nested scope has already recorded its own.
    const unrecorded = held.filter((event) => !recorded.has(event));
    endpoints = await recordOutgoing(tx, ctx.tenant, unrecorded);
    markRecorded(...unrecorded);
    return out;
  });
  if (endpoints.length) void queueDeliveries(ctx.queues, ctx.tenant.slug, endpoints, ctx.log);
  for (const [name, data, options] of jobs)
    await ctx.queues
      .add(name, data, options)
      .catch((err: unknown) => ctx.log.warn({ err: String(err), queue: name }, 'job not queued'));
  for (const event of held) await ctx.bus.publish(event);
  return result;
}

/** `fn` run through `withOutbox`: `export const postEntry = inOutbox(async function postEntry(ctx, …) { … })`. */
export function inOutbox<A extends unknown[], T>(
  fn: (ctx: TenantContext, ...args: A) => Promise<T>,
): (ctx: TenantContext, ...args: A) => Promise<T> {
  return (ctx, ...args) => withOutbox(ctx, (scoped) => fn(scoped, ...args));
}
