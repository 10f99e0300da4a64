/**
 * Channel members: add (admins and moderators; anyone joins a public channel), list, change settings and roles,
 * remove or leave. Joins and leaves write `join`/`leave` entries, so the channel's history shows them.
 */
import { and, asc, eq, type Executor, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { inOutbox } from '../platform/outbox.js';
import { AppError, notFound } from '../platform/errors.js';
import type { Page } from '../platform/pagination.js';
import {
  actorId,
  canAdminister,
  canModerate,
  findMembership,
  lockChannel,
  requireActive,
  visibleChannel,
} from './access.js';
import { announceEntries, announceMembers } from './events.js';
import { type MemberRole, type MemberView, memberView, type NotificationLevel } from './views.js';

const directKeepsMembers = () => new AppError('unprocessable', 'a direct channel keeps the members it was made with');

/** Members and admins of a channel, counted under its lock. */
async function headcount(tx: Executor, ctx: TenantContext, channelId: number) {
  const { channelMembers: m } = ctx.tenant.tables;
  const [row] = await rawRows<{ members: number; admins: number }>(
    tx,
    sql`select count(*)::int as members, (count(*) filter (where ${m.role} = 'admin'))::int as admins
        from ${m} where ${m.channelId} = ${channelId}`,
  );
  return { members: Number(row?.members ?? 0), admins: Number(row?.admins ?? 0) };
}

/**
 * Adds `user_id` with `role` (default `member`). Channel admins and moderators add members, only admins give
 * the moderator or admin role, and any user of the tenant joins a public channel by adding themselves.
 * `max_members` holds under concurrent joins: the count and the insert run under the channel's row lock.
 */
export const addMember = inOutbox(async function addMember(
  ctx: TenantContext,
  channelId: number,
  input: { user_id: string; role?: MemberRole | undefined },
): Promise<MemberView> {
  const { channels: c, channelMembers: m, chatEntries: e } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, channelId);
  const me = actorId(ctx);
  const userId = input.user_id.toLowerCase();
  const role = input.role ?? 'member';
  if (channel.type === 'direct') throw directKeepsMembers();
  requireActive(channel);
  if (role !== 'member' && !canAdminister(ctx, member))
    throw new AppError('forbidden', 'only channel admins make moderators and admins');
  if (!canModerate(ctx, member) && !(userId === me && channel.type === 'public'))
    throw new AppError('forbidden', 'only channel admins and moderators add members');
  const { row, entry } = await ctx.db.transaction(async (tx) => {
    await lockChannel(tx, ctx, channelId);
    const [current] = await tx
      .select({ maxMembers: c.maxMembers, isArchived: c.isArchived })
      .from(c)
      .where(eq(c.id, channelId));
    if (!current) throw notFound(`channel ${channelId}`);
    if (current.isArchived) throw new AppError('conflict', `channel ${channelId} is archived`);
    if (current.maxMembers !== null && (await headcount(tx, ctx, channelId)).members >= current.maxMembers)
      throw new AppError('conflict', `channel ${channelId} is full (max_members ${current.maxMembers})`);
    const [entry] = await tx.insert(e).values({ channelId, userId, entryType: 'join', content: null }).returning();
    // The history before one's join is not unread.
    const [row] = await tx
      .insert(m)
      .values({ channelId, userId, role, lastReadEntryId: entry!.id })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError('conflict', `${userId} is already a member of channel ${channelId}`);
    return { row, entry: entry! };
  });
  await announceMembers(ctx, [row], me);
  await announceEntries(ctx, [entry]);
  return memberView(row);
});

/** A page of a channel's members, in the order they joined. */
export async function listMembers(
  ctx: TenantContext,
  channelId: number,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<MemberView>> {
  const { channelMembers: m } = ctx.tenant.tables;
  await visibleChannel(ctx, channelId);
  const after = q.cursor ? decodeMemberCursor(q.cursor) : undefined;
  const rows = await ctx.db
    .select()
    .from(m)
    .where(
      and(
        eq(m.channelId, channelId),
        after ? sql`(${m.joinedAt}, ${m.userId}) > (${after.joinedAt}::timestamptz, ${after.userId}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(m.joinedAt), asc(m.userId))
    .limit(q.limit + 1);
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page[page.length - 1];
  return {
    data: page.map(memberView),
    next_cursor:
      more && last
        ? Buffer.from(JSON.stringify([last.joinedAt.toISOString(), last.userId])).toString('base64url')
        : null,
  };
}

function decodeMemberCursor(cursor: string): { joinedAt: string; userId: string } {
  const invalid = new AppError('bad_request', 'cursor is not valid: pass next_cursor from a previous page', {
    errors: [{ field: 'query.cursor', message: 'not a cursor of this list' }],
  });
  try {
    const [joinedAt, userId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof joinedAt !== 'string' || Number.isNaN(Date.parse(joinedAt))) throw invalid;
    if (typeof userId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(userId))
      throw invalid;
    return { joinedAt, userId };
  } catch {
    throw invalid;
  }
}

export interface UpdateMemberInput {
  role?: MemberRole | undefined;
  nickname?: string | null | undefined;
  is_muted?: boolean | undefined;
  notification_level?: NotificationLevel | undefined;
}

/**
 * A member changes their own nickname, mute and notification level; channel admins (and the tenant's admins)
 * change anyone's, and only they change roles. The last admin of a channel that has other members keeps the
 * role until someone else has it, as with leaving.
 */
export const updateMember = inOutbox(async function updateMember(
  ctx: TenantContext,
  channelId: number,
  userId: string,
  input: UpdateMemberInput,
): Promise<MemberView> {
  const { channelMembers: m } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, channelId);
  const target = userId.toLowerCase();
  const admin = canAdminister(ctx, member);
  if (target !== actorId(ctx) && !admin)
    throw new AppError('forbidden', "only channel admins change another member's settings");
  if (input.role !== undefined && !admin) throw new AppError('forbidden', 'only channel admins change roles');
  if (input.role !== undefined && channel.type === 'direct')
    throw new AppError('unprocessable', 'members of a direct channel have no roles');
  const changes = {
    ...(input.role !== undefined ? { role: input.role } : {}),
    ...(input.nickname !== undefined ? { nickname: input.nickname } : {}),
    ...(input.is_muted !== undefined ? { isMuted: input.is_muted } : {}),
    ...(input.notification_level !== undefined ? { notificationLevel: input.notification_level } : {}),
  };
  if (Object.keys(changes).length === 0) {
    // Nothing to change (an empty body): the member as they are; an UPDATE without columns is no SQL at all.
    const current = await findMembership(ctx, channelId, target);
    if (!current) throw notFound(`member ${target} of channel ${channelId}`);
    return memberView(current);
  }
  return ctx.db.transaction(async (tx) => {
    if (input.role !== undefined && input.role !== 'admin') {
      await lockChannel(tx, ctx, channelId);
      const current = await findMembership(ctx, channelId, target, tx);
      if (current?.role === 'admin') {
        const { members, admins } = await headcount(tx, ctx, channelId);
        if (admins === 1 && members > 1)
          throw new AppError(
            'conflict',
            'the last admin keeps the role while the channel has members: make another admin first',
          );
      }
    }
    const [row] = await tx
      .update(m)
      .set(changes)
      .where(and(eq(m.channelId, channelId), eq(m.userId, target)))
      .returning();
    if (!row) throw notFound(`member ${target} of channel ${channelId}`);
    return memberView(row);
  });
});

/**
 * Channel admins (and the tenant's admins) remove a member; any member leaves by removing themselves. The last
 * admin cannot leave while others remain: they hand the role over first. Writes a `leave` entry.
 */
export const removeMember = inOutbox(async function removeMember(
  ctx: TenantContext,
  channelId: number,
  userId: string,
): Promise<void> {
  const { channelMembers: m, chatEntries: e } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, channelId);
  const me = actorId(ctx);
  const target = userId.toLowerCase();
  if (channel.type === 'direct') throw directKeepsMembers();
  if (target !== me && !canAdminister(ctx, member))
    throw new AppError('forbidden', 'only channel admins remove members');
  const entry = await ctx.db.transaction(async (tx) => {
    await lockChannel(tx, ctx, channelId);
    const current = await findMembership(ctx, channelId, target, tx);
    if (!current) throw notFound(`member ${target} of channel ${channelId}`);
    if (current.role === 'admin') {
      const { members, admins } = await headcount(tx, ctx, channelId);
      if (admins === 1 && members > 1)
        throw new AppError(
          'conflict',
          'the last admin cannot leave a channel that has members: make another admin first',
        );
    }
    await tx.delete(m).where(and(eq(m.channelId, channelId), eq(m.userId, target)));
    const [entry] = await tx
      .insert(e)
      .values({ channelId, userId: target, entryType: 'leave', content: null })
      .returning();
    return entry!;
  });
  // The leave entry first, so the one leaving sees it too; then `member_left` stops their deliveries.
  await announceEntries(ctx, [entry]);
  await ctx.bus.publish({
    type: 'member_left',
    tenant: ctx.tenant.slug,
    channelId,
    data: { channel_id: channelId, user_id: target, removed_by: me },
  });
});
