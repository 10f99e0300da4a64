/**
 * Read state: each member's `last_read_entry_id` only moves forward; unread and mention counts are derived from
 * it at read time (never stored), so a deleted or edited entry can never leave a count stuck.
 */
import { and, eq, rawRows, type SQL, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { AppError } from '../platform/errors.js';
import { actorId, requireMember, visibleChannel } from './access.js';

/**
 * The unread and mention counts of the caller's membership `m` in channel `c`, as correlated subqueries over the
 * (channel_id, id) and (user_id, channel_id, entry_id) indexes: one query serves a whole channel list.
 */
export function countColumns(ctx: TenantContext, userId: string): { unread: SQL<number>; mentions: SQL<number> } {
  const { channels: c, channelMembers: m, chatEntries: e, mentions: mn } = ctx.tenant.tables;
  return {
    unread: sql<number>`(select count(*)::int from ${e} ue
        where ue.channel_id = ${c.id} and ue.id > ${m.lastReadEntryId} and ue.is_deleted = false
          and ue.entry_type = 'message' and ue.user_id is distinct from ${userId}::uuid)`.mapWith(Number),
    mentions: sql<number>`(select count(*)::int from ${mn} um join ${e} mx on mx.id = um.entry_id
        where um.user_id = ${userId}::uuid and um.channel_id = ${c.id} and um.entry_id > ${m.lastReadEntryId}
          and mx.is_deleted = false)`.mapWith(Number),
  };
}

/** How many members channel `c` has (a correlated subquery over the primary key). */
export function memberCountColumn(ctx: TenantContext): SQL<number> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  return sql<number>`(select count(*)::int from ${m} mc where mc.channel_id = ${c.id})`.mapWith(Number);
}

/** One member's counts in one channel. */
export async function memberCounts(
  ctx: TenantContext,
  channelId: number,
  userId: string,
): Promise<{ unread_count: number; mention_count: number }> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  const { unread, mentions } = countColumns(ctx, userId);
  const [row] = await ctx.db
    .select({ unread, mentions })
    .from(c)
    .innerJoin(m, and(eq(m.channelId, c.id), eq(m.userId, userId)))
    .where(eq(c.id, channelId));
  return { unread_count: row?.unread ?? 0, mention_count: row?.mentions ?? 0 };
}

/**
 * Moves the caller's read marker to `entryId` (a position in the channel: everything up to it is read) unless it is
 * already further (never back), stamps `last_read_at`,
 * and marks the caller's mentions up to the marker read. The `read` event (to the caller's own sockets, so their
 * other devices clear the badge) is sent only when the marker moved.
 */
export async function markChannelRead(ctx: TenantContext, channelId: number, entryId: number) {
  const { channelMembers: m, chatEntries: e, mentions: mn } = ctx.tenant.tables;
  const me = actorId(ctx);
  requireMember(await visibleChannel(ctx, channelId), 'mark it read');
  // Entry ids are one sequence for the whole tenant, so the marker is a position in this channel's id order. A
  // position past the channel's newest entry (an id from a busier channel, say) would silently mark this
  // channel's future entries read: refused.
  const [newest] = await ctx.db
    .select({ id: sql<number | null>`max(${e.id})`.mapWith(Number) })
    .from(e)
    .where(eq(e.channelId, channelId));
  if (!newest?.id || entryId > newest.id)
    throw new AppError('bad_request', `entry ${entryId} is past the newest entry of channel ${channelId}`, {
      errors: [{ field: 'entry_id', message: 'after the newest entry of this channel' }],
    });
  const [state] = await rawRows<{ before: number; after: number; last_read_at: Date | string }>(
    ctx.db,
    sql`with prior as (
          select last_read_entry_id from ${m} where channel_id = ${channelId} and user_id = ${me}::uuid for update
        )
        update ${m} set last_read_entry_id = greatest(${m.lastReadEntryId}, ${entryId}), last_read_at = now()
        from prior where channel_id = ${channelId} and user_id = ${me}::uuid
        returning prior.last_read_entry_id as before, ${m.lastReadEntryId} as after, ${m.lastReadAt} as last_read_at`,
  );
  if (!state) throw new AppError('forbidden', 'join the channel to mark it read'); // left meanwhile
  await ctx.db
    .update(mn)
    .set({ isRead: true })
    .where(
      and(eq(mn.channelId, channelId), eq(mn.userId, me), eq(mn.isRead, false), sql`${mn.entryId} <= ${state.after}`),
    );
  const counts = await memberCounts(ctx, channelId, me);
  const view = {
    channel_id: channelId,
    user_id: me,
    last_read_entry_id: Number(state.after),
    last_read_at: new Date(state.last_read_at).toISOString(),
    ...counts,
  };
  if (Number(state.after) !== Number(state.before))
    await ctx.bus.publish({ type: 'read', tenant: ctx.tenant.slug, channelId, userIds: [me], data: view });
  return view;
}
