/**
 * Who may see and do what in a channel. Private and direct channels do not exist for non-members (404, so a
 * guess at an id learns nothing); public ones may be read by every user of the tenant, but only members post.
 * The tenant's admins see and moderate every channel.
 */
import { and, eq, type Executor, sql } from '@comms/db';
import { isTenantAdmin } from '../platform/auth.js';
import type { TenantContext } from '../platform/context.js';
import { AppError, notFound } from '../platform/errors.js';
import type { ChannelRow, EntryRow, MemberRow } from './views.js';

/**
 * The acting user's id, lowercase as PostgreSQL renders a uuid (so comparisons with stored ids hold whatever case
 * the token's `sub` has); chat needs a user (provider webhooks and jobs have none).
 */
export function actorId(ctx: TenantContext): string {
  if (!ctx.actor) throw new AppError('unauthorized', 'a user token is required');
  return ctx.actor.userId.toLowerCase();
}

const tenantAdmin = (ctx: TenantContext) => !!ctx.actor && isTenantAdmin(ctx.actor);

/** Channel admins, or the tenant's admins. */
export function canAdminister(ctx: TenantContext, member: MemberRow | undefined): boolean {
  return member?.role === 'admin' || tenantAdmin(ctx);
}

/** Channel admins and moderators, or the tenant's admins. */
export function canModerate(ctx: TenantContext, member: MemberRow | undefined): boolean {
  return member?.role === 'admin' || member?.role === 'moderator' || tenantAdmin(ctx);
}

export async function findMembership(
  ctx: TenantContext,
  channelId: number,
  userId: string,
  db: Executor = ctx.db,
): Promise<MemberRow | undefined> {
  const { channelMembers: m } = ctx.tenant.tables;
  const [row] = await db
    .select()
    .from(m)
    .where(and(eq(m.channelId, channelId), eq(m.userId, userId)))
    .limit(1);
  return row;
}

export interface ChannelAccess {
  channel: ChannelRow;
  /** The caller's membership, if any. */
  member: MemberRow | undefined;
}

function checkVisible(ctx: TenantContext, id: number, access: ChannelAccess | undefined): ChannelAccess {
  if (!access) throw notFound(`channel ${id}`);
  if (access.channel.type !== 'public' && !access.member && !tenantAdmin(ctx)) throw notFound(`channel ${id}`);
  return access;
}

/** The channel and the caller's membership in one query, or 404 when the caller may not see the channel. */
export async function visibleChannel(ctx: TenantContext, id: number): Promise<ChannelAccess> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  const [row] = await ctx.db
    .select({ channel: c, member: m })
    .from(c)
    .leftJoin(m, and(eq(m.channelId, c.id), eq(m.userId, actorId(ctx))))
    .where(eq(c.id, id))
    .limit(1);
  return checkVisible(ctx, id, row ? { channel: row.channel, member: row.member ?? undefined } : undefined);
}

/** An entry with its channel and the caller's membership (one query); 404 when the channel is not visible. */
export async function visibleEntry(ctx: TenantContext, entryId: number): Promise<ChannelAccess & { entry: EntryRow }> {
  const { channels: c, channelMembers: m, chatEntries: e } = ctx.tenant.tables;
  const [row] = await ctx.db
    .select({ entry: e, channel: c, member: m })
    .from(e)
    .innerJoin(c, eq(c.id, e.channelId))
    .leftJoin(m, and(eq(m.channelId, c.id), eq(m.userId, actorId(ctx))))
    .where(eq(e.id, entryId))
    .limit(1);
  if (!row) throw notFound(`message ${entryId}`);
  try {
    checkVisible(ctx, row.channel.id, { channel: row.channel, member: row.member ?? undefined });
  } catch {
    throw notFound(`message ${entryId}`);
  }
  return { entry: row.entry, channel: row.channel, member: row.member ?? undefined };
}

/** Members only (a visible channel's non-member gets 403: they may read and join, not act in it). */
export function requireMember(access: ChannelAccess, action: string): MemberRow {
  if (!access.member) throw new AppError('forbidden', `join the channel to ${action}`);
  return access.member;
}

/** Archived channels keep their history readable and take no new writes. */
export function requireActive(channel: ChannelRow): void {
  if (channel.isArchived) throw new AppError('conflict', `channel ${channel.id} is archived`);
}

/**
 * Who may post in a channel (messages, typing): its members, while it is not archived; in a read-only channel
 * only its admins and moderators (and the tenant's admins). Returns the caller's membership.
 */
export function requirePoster(ctx: TenantContext, access: ChannelAccess, action: string): MemberRow {
  const member = requireMember(access, action);
  requireActive(access.channel);
  if (access.channel.isReadOnly && !canModerate(ctx, member))
    throw new AppError('forbidden', 'the channel is read-only: only its admins and moderators post');
  return member;
}

/** Only messages are edited, deleted, pinned or reacted to; join and leave entries are the channel's record. */
export function requireMessage(entry: EntryRow, action: string): void {
  if (entry.entryType !== 'message')
    throw new AppError('unprocessable', `a ${entry.entryType} entry cannot be ${action}`);
}

/** Takes the channel's row lock: membership changes of one channel run one at a time (max_members, last admin). */
export async function lockChannel(tx: Executor, ctx: TenantContext, channelId: number): Promise<void> {
  const { channels: c } = ctx.tenant.tables;
  await tx.execute(sql`select 1 from ${c} where ${c.id} = ${channelId} for update`);
}
