/**
 * A tenant's webhook endpoints (issue 15). The signing secret is made here, shown once (in the answer to the
 * creation or rotation), sealed with ENCRYPTION_KEY at rest and never returned again.
 */
import { and, desc, eq, lt } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { AppError, notFound } from '../platform/errors.js';
import { forgetSubscribers } from '../platform/outbox.js';
import { decodeCursor, type Page, toPage } from '../platform/pagination.js';
import { checkEndpointUrl, type UrlPolicy } from './address.js';
import { newSecret } from './send.js';

export type EndpointRow = TenantContext['tenant']['tables']['webhookEndpoints']['$inferSelect'];

export function endpointView(r: EndpointRow) {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    event_types: r.eventTypes ?? null,
    channels: r.channels ?? null,
    enabled: r.enabled,
    disabled_reason: r.disabledReason,
    /** Until then the previous secret signs beside the current one (after a rotation). */
    previous_secret_expires_at:
      r.previousSecretExpiresAt && r.previousSecretExpiresAt > new Date()
        ? r.previousSecretExpiresAt.toISOString()
        : null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
export type EndpointView = ReturnType<typeof endpointView>;

export interface EndpointInput {
  url: string;
  description?: string | null;
  event_types?: string[] | null;
  channels?: string[] | null;
  enabled?: boolean;
}

export interface WebhookPolicy extends UrlPolicy {
  secretOverlapMs: number;
}

/** What the config says about endpoints. */
export function webhookPolicy(config: {
  WEBHOOK_ALLOW_HTTP: boolean;
  WEBHOOK_ALLOW_PRIVATE: boolean;
  WEBHOOK_SECRET_OVERLAP_MS: number;
}): WebhookPolicy {
  return {
    allowHttp: config.WEBHOOK_ALLOW_HTTP,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
  };
}

/** Empty lists mean "all", as null does: a subscription to nothing is not a subscription. */
const listOrAll = (v: string[] | null | undefined) => (v?.length ? [...new Set(v)] : null);

export async function createEndpoint(
  ctx: TenantContext,
  policy: WebhookPolicy,
  input: EndpointInput,
): Promise<EndpointView & { secret: string }> {
  const url = await checkEndpointUrl(input.url, policy);
  const e = ctx.tenant.tables.webhookEndpoints;
  const secret = newSecret();
  const [row] = await ctx.db
    .insert(e)
    .values({
      url: url.href,
      description: input.description ?? null,
      eventTypes: listOrAll(input.event_types),
      channels: listOrAll(input.channels),
      enabled: input.enabled ?? true,
      secretEncrypted: ctx.secrets.seal(secret),
    })
    .returning();
  forgetSubscribers(ctx.tenant.schemaName);
  return { ...endpointView(row!), secret };
}

export async function findEndpoint(ctx: TenantContext, id: number): Promise<EndpointRow> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const [row] = await ctx.db.select().from(e).where(eq(e.id, id));
  if (!row) throw notFound(`webhook endpoint ${id}`);
  return row;
}

export async function listEndpoints(
  ctx: TenantContext,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<EndpointView>> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const after = query.cursor ? (decodeCursor(query.cursor, ['int'])[0] as number) : null;
  const rows = await ctx.db
    .select()
    .from(e)
    .where(after === null ? undefined : lt(e.id, after))
    .orderBy(desc(e.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, (r) => [r.id], endpointView);
}

export async function updateEndpoint(
  ctx: TenantContext,
  policy: WebhookPolicy,
  id: number,
  input: Partial<EndpointInput>,
): Promise<EndpointView> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const patch: Partial<EndpointRow> = { updatedAt: new Date() };
  if (input.url !== undefined) patch.url = (await checkEndpointUrl(input.url, policy)).href;
  if (input.description !== undefined) patch.description = input.description;
  if (input.event_types !== undefined) patch.eventTypes = listOrAll(input.event_types);
  if (input.channels !== undefined) patch.channels = listOrAll(input.channels);
  if (input.enabled !== undefined) {
    patch.enabled = input.enabled;
    // Enabled again by an admin: the failure clock starts over.
    if (input.enabled) Object.assign(patch, { disabledReason: null, failingSince: null });
    else patch.disabledReason = 'disabled by an admin';
  }
  const [row] = await ctx.db.update(e).set(patch).where(eq(e.id, id)).returning();
  if (!row) throw notFound(`webhook endpoint ${id}`);
  forgetSubscribers(ctx.tenant.schemaName);
  return endpointView(row);
}

/** Deletes the endpoint with its delivery log; queued attempts for it find nothing and do nothing. */
export async function deleteEndpoint(ctx: TenantContext, id: number): Promise<void> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const rows = await ctx.db.delete(e).where(eq(e.id, id)).returning({ id: e.id });
  if (!rows.length) throw notFound(`webhook endpoint ${id}`);
  forgetSubscribers(ctx.tenant.schemaName);
}

/**
 * A new secret; the current one becomes the previous and keeps signing beside it for the overlap, so receivers
 * can switch without losing a delivery. A rotation during an overlap drops the oldest secret.
 */
export async function rotateSecret(
  ctx: TenantContext,
  policy: WebhookPolicy,
  id: number,
): Promise<EndpointView & { secret: string }> {
  const e = ctx.tenant.tables.webhookEndpoints;
  const current = await findEndpoint(ctx, id);
  const secret = newSecret();
  const now = new Date();
  const [row] = await ctx.db
    .update(e)
    .set({
      secretEncrypted: ctx.secrets.seal(secret),
      previousSecretEncrypted: current.secretEncrypted,
      previousSecretExpiresAt: new Date(now.getTime() + policy.secretOverlapMs),
      updatedAt: now,
    })
    .where(and(eq(e.id, id), eq(e.secretEncrypted, current.secretEncrypted)))
    .returning();
  if (!row) throw new AppError('conflict', 'the secret was rotated at the same time; try again');
  return { ...endpointView(row), secret };
}

// Opened secrets by their sealed form (a rotation seals a new value, so an entry never goes stale): the worker
// signs every delivery, and AES-GCM per request adds up. Bounded; in memory only, like the key itself.
const opened = new Map<string, string>();
function open(ctx: TenantContext, sealed: string): string {
  let plain = opened.get(sealed);
  if (plain === undefined) {
    plain = ctx.secrets.open(sealed);
    if (opened.size >= 1_000) opened.clear();
    opened.set(sealed, plain);
  }
  return plain;
}

/** The secrets that sign a request now, newest first. */
export function secretsOf(
  ctx: TenantContext,
  row: Pick<EndpointRow, 'secretEncrypted' | 'previousSecretEncrypted' | 'previousSecretExpiresAt'>,
  now = new Date(),
): string[] {
  const secrets = [open(ctx, row.secretEncrypted)];
  if (row.previousSecretEncrypted && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now)
    secrets.push(open(ctx, row.previousSecretEncrypted));
  return secrets;
}
