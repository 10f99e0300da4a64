/**
 * The delivery rows as the queue (docs/adr/0009-outgoing-webhooks.md): a batch of an endpoint's due rows claimed in
 * one statement (`FOR UPDATE SKIP LOCKED`, a lease in `locked_until`) with the endpoint read beside them, a single
 * row claimed by id, every outcome of a batch written in one statement, and an endpoint disabled.
 */
import { and, eq, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { forgetSubscribers } from '../platform/outbox.js';
import type { WebhookResponse } from './send.js';
import type { DeliverySettings } from './settings.js';

export type AttemptOutcome =
  /** Nothing done: not pending, not due, in flight elsewhere, or gone. */
  | { kind: 'skipped' }
  | { kind: 'delivered' }
  | { kind: 'retry'; attempts: number; delayMs: number }
  /** Failed for good: attempts exhausted, endpoint disabled or gone. */
  | { kind: 'failed' };

// A lease lasts the timeout and this much more; a send starts only while it can end `LEASE_MARGIN_MS` before the
// lease does, so a claimed row is never sent after another worker could have claimed it again.
const LEASE_EXTRA_MS = 30_000;
export const LEASE_MARGIN_MS = 5_000;

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

export interface Endpoint {
  id: number;
  enabled: boolean;
  url: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
}

export interface Claimed {
  id: number;
  eventId: string;
  payload: string;
  attempts: number;
}

export interface Claim {
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

/** Now, and until when a row claimed now is ours: the request's timeout and a margin. */
function leaseFrom(settings: DeliverySettings) {
  const now = new Date();
  return { now, lease: new Date(now.getTime() + settings.timeoutMs + LEASE_EXTRA_MS) };
}

/**
 * Claims up to `limit` due rows of the endpoint, oldest due first, in one statement that also reads the endpoint
 * and when its next row not yet due falls due. Null when the endpoint is gone.
 */
export async function claimDue(ctx: TenantContext, settings: DeliverySettings, endpointId: number, limit: number) {
  const s = sql.identifier(ctx.tenant.schemaName);
  const { now, lease } = leaseFrom(settings);
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
export async function claimOne(ctx: TenantContext, settings: DeliverySettings, id: number, force: boolean) {
  const s = sql.identifier(ctx.tenant.schemaName);
  const { now, lease } = leaseFrom(settings);
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

export interface RowOutcome {
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

/**
 * One statement: the attempts logged, each row's outcome written (where this batch's lease still holds: a worker
 * that lost its lease to a pause must not overwrite a later attempt's outcome), rows not attempted let go, and the
 * endpoint's failure clock set (`failingSince`: undefined leaves it alone).
 */
export async function writeOutcomes(
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
