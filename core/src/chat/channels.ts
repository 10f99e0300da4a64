/** Team chat channels and their members (DESIGN §6 Chat, §7). A first slice: see the README's status. */
import { and, asc, eq, inArray, rawRows, sql } from '@comms/db';
import { isTenantAdmin } from '../auth.js';
import type { TenantContext } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { isUniqueViolation } from '../inbox/conversations.js';

export const CHANNEL_TYPES = ['public', 'private', 'direct'] as const;
export const MEMBER_ROLES = ['admin', 'moderator', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

type Tables = TenantContext['tenant']['tables'];
export type ChannelRow = Tables['channels']['$inferSelect'];
export type MemberRow = Tables['channelMembers']['$inferSelect'];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function channelView(r: ChannelRow, counts?: { unread_count: number; mention_count: number }) {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    description: r.description,
    type: r.type,
    is_archived: r.isArchived,
    is_read_only: r.isReadOnly,
    max_members: r.maxMembers,
    created_by: r.createdBy,
    last_activity_at: iso(r.lastActivityAt)!,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
    ...(counts ?? {}),
  };
}

export function memberView(r: MemberRow) {
  return {
    channel_id: r.channelId,
    user_id: r.userId,
    role: r.role,
    nickname: r.nickname,
    is_muted: r.isMuted,
    notification_level: r.notificationLevel,
    last_read_entry_id: r.lastReadEntryId,
    last_read_at: iso(r.lastReadAt),
    joined_at: iso(r.joinedAt)!,
  };
}

function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s || 'channel';
}

function actorId(ctx: TenantContext): string {
  if (!ctx.actor) throw new AppError('unauthorized', 'a user token is required');
  return ctx.actor.userId;
}

export async function findMembership(
  ctx: TenantContext,
  channelId: number,
  userId: string,
): Promise<MemberRow | undefined> {
  const { channelMembers: m } = ctx.tenant.tables;
  const [row] = await ctx.db
    .select()
    .from(m)
    .where(and(eq(m.channelId, channelId), eq(m.userId, userId)))
    .limit(1);
  return row;
}

/**
 * The channel as the caller may see it: private and direct channels do not exist for non-members
 * (404, so nothing leaks); archived ones only through their id.
 */
export async function visibleChannel(
  ctx: TenantContext,
  id: number,
): Promise<{ channel: ChannelRow; member: MemberRow | undefined }> {
  const { channels: c } = ctx.tenant.tables;
  const [channel] = await ctx.db.select().from(c).where(eq(c.id, id)).limit(1);
  if (!channel) throw notFound(`channel ${id}`);
  const member = await findMembership(ctx, id, actorId(ctx));
  if (channel.type !== 'public' && !member && !isTenantAdmin(ctx.actor!)) throw notFound(`channel ${id}`);
  return { channel, member };
}

/** Channel admins, or the tenant's admins. */
export function canAdminister(ctx: TenantContext, member: MemberRow | undefined): boolean {
  return member?.role === 'admin' || isTenantAdmin(ctx.actor!);
}

export function canModerate(ctx: TenantContext, member: MemberRow | undefined): boolean {
  return member?.role === 'admin' || member?.role === 'moderator' || isTenantAdmin(ctx.actor!);
}

async function announceMember(ctx: TenantContext, channelId: number, userId: string, role: MemberRole) {
  await ctx.bus.publish({
    type: 'member_joined',
    tenant: ctx.tenant.slug,
    channelId,
    data: { channel_id: channelId, user_id: userId, role },
  });
}

export interface CreateChannelInput {
  name?: string;
  slug?: string;
  description?: string | null;
  type: (typeof CHANNEL_TYPES)[number];
  is_read_only?: boolean;
  max_members?: number | null;
  member_ids?: string[];
}

/** Creates a channel (the creator its admin); a direct channel for a set of users that has one returns it. */
export async function createChannel(
  ctx: TenantContext,
  input: CreateChannelInput,
): Promise<{ channel: ReturnType<typeof channelView>; created: boolean }> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  const me = actorId(ctx);
  if (input.type === 'direct') {
    const members = [...new Set([me, ...(input.member_ids ?? [])])].sort();
    if (members.length < 2)
      throw new AppError('unprocessable', 'a direct channel needs at least one other member', {
        errors: [{ field: 'member_ids', message: 'name at least one other user' }],
      });
    const directKey = members.join(',');
    const result = await ctx.db.transaction(async (tx) => {
      // The unique direct_key makes racing creations meet in one channel.
      const [row] = await tx
        .insert(c)
        .values({
          name: input.name ?? 'Direct message',
          slug: `dm-${directKey.replace(/[^a-f0-9]/g, '').slice(0, 24)}-${members.length}-${Date.now().toString(36)}`,
          type: 'direct',
          directKey,
          createdBy: me,
        })
        .onConflictDoNothing({ target: c.directKey })
        .returning();
      if (!row) {
        const [existing] = await tx.select().from(c).where(eq(c.directKey, directKey));
        return { channel: existing!, created: false };
      }
      await tx.insert(m).values(members.map((userId) => ({ channelId: row.id, userId, role: 'member' })));
      return { channel: row, created: true };
    });
    if (result.created) {
      // Initial members first, so their open sockets receive the channel's events from the start.
      for (const userId of members) await announceMember(ctx, result.channel.id, userId, 'member');
      await ctx.bus.publish({
        type: 'channel_created',
        tenant: ctx.tenant.slug,
        channelId: result.channel.id,
        data: channelView(result.channel),
      });
    }
    return { channel: channelView(result.channel), created: result.created };
  }
  if (!input.name?.trim())
    throw new AppError('bad_request', 'a channel needs a name', { errors: [{ field: 'name', message: 'required' }] });
  const slug = input.slug ?? slugify(input.name);
  try {
    const row = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(c)
        .values({
          name: input.name!.trim(),
          slug,
          description: input.description ?? null,
          type: input.type,
          isReadOnly: input.is_read_only ?? false,
          maxMembers: input.max_members ?? null,
          createdBy: me,
        })
        .returning();
      await tx.insert(m).values({ channelId: row!.id, userId: me, role: 'admin' });
      return row!;
    });
    await announceMember(ctx, row.id, me, 'admin');
    await ctx.bus.publish({
      type: 'channel_created',
      tenant: ctx.tenant.slug,
      channelId: row.id,
      data: channelView(row),
    });
    return { channel: channelView(row), created: true };
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `a channel with slug '${slug}' already exists`);
    throw err;
  }
}

/** The caller's channels with their unread and mention counts, derived from read state in one query. */
export async function listMyChannels(ctx: TenantContext) {
  const { channels: c, channelMembers: m, chatEntries: e, mentions: mn } = ctx.tenant.tables;
  const me = actorId(ctx);
  const rows = await rawRows<{ id: number; unread_count: number; mention_count: number }>(
    ctx.db,
    sql`select ch.id,
          (select count(*)::int from ${e} x where x.channel_id = ch.id and x.id > mb.last_read_entry_id
             and x.is_deleted = false and x.entry_type = 'message' and x.user_id is distinct from ${me}) as unread_count,
          (select count(*)::int from ${mn} y join ${e} z on z.id = y.entry_id
             where y.channel_id = ch.id and y.user_id = ${me} and y.entry_id > mb.last_read_entry_id and z.is_deleted = false) as mention_count
        from ${c} ch join ${m} mb on mb.channel_id = ch.id and mb.user_id = ${me}
        where ch.is_archived = false`,
  );
  const counts = new Map(rows.map((r) => [r.id, r]));
  if (!counts.size) return [];
  const channels = await ctx.db
    .select()
    .from(c)
    .where(and(eq(c.isArchived, false), inArray(c.id, [...counts.keys()])))
    .orderBy(asc(c.id));
  return channels.map((ch) => {
    const n = counts.get(ch.id)!;
    return channelView(ch, { unread_count: n.unread_count, mention_count: n.mention_count });
  });
}

export async function updateChannel(
  ctx: TenantContext,
  id: number,
  input: { name?: string; description?: string | null; is_read_only?: boolean; max_members?: number | null },
) {
  const { channels: c } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, id);
  if (!canAdminister(ctx, member)) throw new AppError('forbidden', 'only channel admins change a channel');
  const [row] = await ctx.db
    .update(c)
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.is_read_only !== undefined ? { isReadOnly: input.is_read_only } : {}),
      ...(input.max_members !== undefined ? { maxMembers: input.max_members } : {}),
      updatedAt: new Date(),
    })
    .where(eq(c.id, id))
    .returning();
  await ctx.bus.publish({ type: 'channel_updated', tenant: ctx.tenant.slug, channelId: id, data: channelView(row!) });
  return channelView(row!);
}

/** Archives; `purge` (tenant admins) deletes the channel and its entries. */
export async function deleteChannel(ctx: TenantContext, id: number, purge: boolean): Promise<void> {
  const { channels: c } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, id);
  if (!canAdminister(ctx, member)) throw new AppError('forbidden', 'only channel admins delete a channel');
  if (purge) {
    if (!isTenantAdmin(ctx.actor!)) throw new AppError('forbidden', 'only tenant admins purge a channel');
    await ctx.db.delete(c).where(eq(c.id, id));
  } else {
    await ctx.db.update(c).set({ isArchived: true, archivedAt: new Date(), updatedAt: new Date() }).where(eq(c.id, id));
  }
  await ctx.bus.publish({
    type: 'channel_deleted',
    tenant: ctx.tenant.slug,
    channelId: id,
    data: { channel_id: id, purged: purge },
  });
}

/** Adds a member: admins and moderators add anyone; anyone joins a public channel themselves. */
export async function addMember(ctx: TenantContext, channelId: number, input: { user_id: string; role?: MemberRole }) {
  const { channelMembers: m, chatEntries: e, channels: c } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, channelId);
  const me = actorId(ctx);
  const self = input.user_id === me;
  if (channel.type === 'direct') throw new AppError('unprocessable', 'direct channels keep their members');
  if (!(canModerate(ctx, member) || (self && channel.type === 'public')))
    throw new AppError('forbidden', 'only admins and moderators add members');
  if ((input.role ?? 'member') !== 'member' && !canAdminister(ctx, member))
    throw new AppError('forbidden', 'only channel admins give roles');
  const row = await ctx.db.transaction(async (tx) => {
    // Serialize joins per channel so max_members holds under concurrency.
    await tx.execute(sql`select 1 from ${c} where ${c.id} = ${channelId} for update`);
    if (channel.maxMembers) {
      const [n] = await rawRows<{ n: number }>(
        tx,
        sql`select count(*)::int as n from ${m} where channel_id = ${channelId}`,
      );
      if ((n?.n ?? 0) >= channel.maxMembers)
        throw new AppError('conflict', `channel ${channelId} is full (${channel.maxMembers} members)`);
    }
    const [inserted] = await tx
      .insert(m)
      .values({ channelId, userId: input.user_id, role: input.role ?? 'member' })
      .onConflictDoNothing()
      .returning();
    if (!inserted) throw new AppError('conflict', 'already a member');
    await tx.insert(e).values({ channelId, userId: input.user_id, entryType: 'join', content: null });
    return inserted;
  });
  const view = memberView(row);
  await ctx.bus.publish({ type: 'member_joined', tenant: ctx.tenant.slug, channelId, data: view });
  return view;
}

export async function listMembers(ctx: TenantContext, channelId: number) {
  const { channelMembers: m } = ctx.tenant.tables;
  await visibleChannel(ctx, channelId);
  const rows = await ctx.db.select().from(m).where(eq(m.channelId, channelId)).orderBy(asc(m.joinedAt));
  return rows.map(memberView);
}

/** Removes a member (admins), or the member leaves; the last admin of a channel with others cannot leave. */
export async function removeMember(ctx: TenantContext, channelId: number, userId: string): Promise<void> {
  const { channelMembers: m, chatEntries: e } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, channelId);
  const me = actorId(ctx);
  if (userId !== me && !canAdminister(ctx, member))
    throw new AppError('forbidden', 'only channel admins remove members');
  const target = await findMembership(ctx, channelId, userId);
  if (!target) throw notFound(`member ${userId}`);
  if (target.role === 'admin') {
    const admins = await ctx.db
      .select({ userId: m.userId })
      .from(m)
      .where(and(eq(m.channelId, channelId), eq(m.role, 'admin')));
    const others = await ctx.db.select({ userId: m.userId }).from(m).where(eq(m.channelId, channelId));
    if (admins.length === 1 && others.length > 1)
      throw new AppError(
        'conflict',
        'the last admin cannot leave a channel that has members: hand the role over first',
      );
  }
  await ctx.db.transaction(async (tx) => {
    await tx.delete(m).where(and(eq(m.channelId, channelId), eq(m.userId, userId)));
    await tx.insert(e).values({ channelId, userId, entryType: 'leave', content: null });
  });
  await ctx.bus.publish({
    type: 'member_left',
    tenant: ctx.tenant.slug,
    channelId,
    data: { channel_id: channelId, user_id: userId },
  });
}

/**
 * A member changes their own nickname, mute and notification level; only channel admins change roles
 * (and may change anyone's settings).
 */
export async function updateMember(
  ctx: TenantContext,
  channelId: number,
  userId: string,
  input: {
    role?: MemberRole;
    nickname?: string | null;
    is_muted?: boolean;
    notification_level?: 'all' | 'mentions' | 'none';
  },
) {
  const { channelMembers: m } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, channelId);
  const admin = canAdminister(ctx, member);
  if (userId !== actorId(ctx) && !admin)
    throw new AppError('forbidden', "only channel admins change another member's settings");
  if (input.role !== undefined && !admin) throw new AppError('forbidden', 'only channel admins change roles');
  const [row] = await ctx.db
    .update(m)
    .set({
      ...(input.role !== undefined ? { role: input.role } : {}),
      ...(input.nickname !== undefined ? { nickname: input.nickname } : {}),
      ...(input.is_muted !== undefined ? { isMuted: input.is_muted } : {}),
      ...(input.notification_level !== undefined ? { notificationLevel: input.notification_level } : {}),
    })
    .where(and(eq(m.channelId, channelId), eq(m.userId, userId)))
    .returning();
  if (!row) throw notFound(`member ${userId}`);
  return memberView(row);
}
