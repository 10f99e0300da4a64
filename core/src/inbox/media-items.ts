/**
 * Inbound media on messages (issue 14): what each attachment item says while its file is fetched, and what it
 * says once stored, refused or failed — the shared attachments contract: an item keeps the provider's fields and
 * gains `id` (the media id), `mime_type`, `size`, `sha256`, `filename`, `status` (`pending|stored|failed|rejected`),
 * `error` and `url` (where the tenant's users open it). The provider's own id and URL move to `provider_id` and
 * `provider_url`, which the fetch uses.
 */
import type { InboundMessage, Media } from '@comms/adapter-kit';
import { rawRows, rowFromJson, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { MediaRefusal } from '../platform/media/store.js';
import { writeWithEvents } from '../platform/outbox.js';
import { type MediaRow, mediaView, storeMedia } from '../platform/media/service.js';
import type { MediaFetchJob } from '../platform/queue/definitions.js';
import { type ChannelAccountRow, messageView } from './views.js';

export type AttachmentStatus = 'pending' | 'stored' | 'failed' | 'rejected';

export interface AttachmentItem extends Record<string, unknown> {
  id: number | string | null;
  status?: AttachmentStatus;
  provider_id?: string | null;
  provider_url?: string | null;
  mime_type?: string | null;
  filename?: string | null;
}

/** The fields an item gains once its file is in the store. */
export function storedFields(tenant: string, row: MediaRow) {
  const view = mediaView(tenant, row);
  return {
    id: view.id,
    mime_type: view.mime_type,
    size: view.size,
    sha256: view.sha256,
    url: view.url,
    status: 'stored' as const,
    error: null,
  };
}

/**
 * The attachment items of one inbound message as they are first stored: bytes the webhook carried (email) go to
 * the store now and the item is `stored` (or `rejected` with the reason); everything else is `pending` until the
 * media-fetch job has it. Throws only when the store itself fails (the webhook is then answered 503 and redelivered).
 */
export async function inboundAttachments(ctx: TenantContext, m: InboundMessage): Promise<AttachmentItem[]> {
  const items: AttachmentItem[] = [];
  for (const media of m.media) {
    const { content, ...fields } = media;
    const base = { ...fields, id: null, url: null, provider_id: media.id, provider_url: media.url, sha256: null };
    if (!content) {
      items.push({ ...base, status: 'pending', error: null });
      continue;
    }
    try {
      const row = await storeMedia(ctx, [content], { mimeType: media.mime_type, filename: media.filename });
      items.push({ ...base, ...storedFields(ctx.tenant.slug, row), filename: media.filename, size: row.size });
    } catch (err) {
      if (!(err instanceof MediaRefusal)) throw err;
      items.push({ ...base, size: content.length, status: 'rejected', error: err.message });
    }
  }
  return items;
}

/** The media-fetch jobs of a stored inbound message: one per pending item. */
export function mediaJobsOf(tenant: string, message: { id: number; attachments: unknown }): MediaFetchJob[] {
  const items = Array.isArray(message.attachments) ? (message.attachments as AttachmentItem[]) : [];
  return items.flatMap((item, index) =>
    item?.status === 'pending' ? [{ tenant, message_id: message.id, index }] : [],
  );
}

/** Enqueues the fetch of every pending item of `messages`. Idempotent (job ids per message and item). */
export async function enqueueMediaFetches(
  ctx: TenantContext,
  messages: { id: number; attachments: unknown }[],
): Promise<number> {
  let queued = 0;
  for (const message of messages)
    for (const job of mediaJobsOf(ctx.tenant.slug, message)) {
      await ctx.queues.add('media-fetch', job);
      queued += 1;
    }
  return queued;
}

export type MediaFetchWork =
  | { kind: 'skip'; reason: string }
  | { kind: 'fetch'; item: AttachmentItem; account: ChannelAccountRow };

/**
 * What one media-fetch job has to do: nothing when the item is no longer pending (a repeated job). One statement:
 * the item alone (not the whole message) and its account.
 */
export async function prepareMediaFetch(ctx: TenantContext, messageId: number, index: number): Promise<MediaFetchWork> {
  const s = sql.identifier(ctx.tenant.schemaName);
  const [row] = await rawRows<{ item: AttachmentItem | null; account: Record<string, unknown> | null }>(
    ctx.db,
    sql`select m.attachments -> ${index}::int as item, to_jsonb(a) as account
          from ${s}.inbox_messages m
          left join ${s}.channel_accounts a on a.id = m.channel_account_id
         where m.id = ${messageId}`,
  );
  if (!row) return { kind: 'skip', reason: 'no such message' };
  const { item } = row;
  if (!item) return { kind: 'skip', reason: 'no such item' };
  if (item.status !== 'pending') return { kind: 'skip', reason: `item already ${item.status ?? 'settled'}` };
  // A deleted account still has the credentials the customer's file was sent under.
  if (!row.account) return { kind: 'skip', reason: 'no channel account' };
  return { kind: 'fetch', item, account: rowFromJson(ctx.tenant.tables.channelAccounts, row.account) };
}

/** Stores the outcome on the item (only while it is pending) and tells open consoles (`message_updated`). */
export async function settleAttachment(
  ctx: TenantContext,
  messageId: number,
  index: number,
  fields: Record<string, unknown>,
): Promise<boolean> {
  const s = sql.identifier(ctx.tenant.schemaName);
  // The event's outgoing webhooks commit with the change (the outbox).
  const { result: row, events } = await writeWithEvents(
    ctx,
    async (db) => {
      const [updated] = await rawRows<{ row: Record<string, unknown> }>(
        db,
        sql`update ${s}.inbox_messages m
               set attachments = jsonb_set(m.attachments, array[${index}::int::text], (m.attachments -> ${index}::int) || ${JSON.stringify(fields)}::jsonb)
             where m.id = ${messageId} and m.attachments -> ${index}::int ->> 'status' = 'pending'
         returning to_jsonb(m.*) as row`,
      );
      return updated ? rowFromJson(ctx.tenant.tables.inboxMessages, updated.row) : null;
    },
    (row) => (row ? [{ type: 'message_updated', tenant: ctx.tenant.slug, data: messageView(row) }] : []),
  );
  for (const event of events) void ctx.bus.publish(event);
  return row !== null;
}

/** Stores a fetched file on its item. */
export const recordAttachmentStored = (
  ctx: TenantContext,
  messageId: number,
  index: number,
  row: MediaRow,
  filename: string | null,
) =>
  settleAttachment(ctx, messageId, index, {
    ...storedFields(ctx.tenant.slug, row),
    filename: filename ?? row.filename,
  });

/** Records why an item has no file: `rejected` (limits, type) or `failed` (the provider's refusal, retries spent). */
export const recordAttachmentProblem = (
  ctx: TenantContext,
  messageId: number,
  index: number,
  status: 'failed' | 'rejected',
  error: string,
) => settleAttachment(ctx, messageId, index, { status, error });

export type { Media };

/**
 * Queues again the fetches of inbound items still pending after `olderThanMs` (their job was never queued: Redis was
 * away when the webhook was stored). Looks back one day; jobs already queued are not duplicated (job ids).
 */
export async function sweepPendingMedia(ctx: TenantContext, olderThanMs: number, limit = 500): Promise<number> {
  const t = ctx.tenant.tables.inboxMessages;
  const now = Date.now();
  const rows = await ctx.db
    .select({ id: t.id, attachments: t.attachments })
    .from(t)
    .where(
      sql`${t.direction} = 'in' and ${t.createdAt} < ${new Date(now - olderThanMs)} and ${t.createdAt} > ${new Date(now - 86_400_000)}
          and ${t.attachments} @> '[{"status":"pending"}]'::jsonb`,
    )
    .orderBy(t.createdAt)
    .limit(limit);
  return enqueueMediaFetches(ctx, rows);
}
