/** Team chat channels (DESIGN §6 Chat, §7): public, private and direct; create, list, get, update, archive. */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, type SQL, sql } from '@comms/db';
import { isTenantAdmin } from '../platform/auth.js';
import type { TenantContext } from '../platform/context.js';
import { inOutbox } from '../platform/outbox.js';
import { AppError, isUniqueViolation } from '../platform/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../platform/pagination.js';
import { actorId, canAdminister, visibleChannel } from './access.js';
import { announceEntries, announceMembers } from './events.js';
import { countColumns, memberCountColumn } from './read-state.js';
import {
  type ChannelRow,
  type ChannelType,
  type ChannelWithStanding,
  channelView,
  type EntryRow,
  type MemberRole,
  type MemberRow,
} from './views.js';

/** A channel event's data: the channel, with `channel_id` like every chat event. */
const channelEvent = (row: ChannelRow) => ({ channel_id: row.id, ...channelView(row) });

/** A new channel's `member_joined`s, then its `channel_created`. */
async function announceCreated(ctx: TenantContext, channel: ChannelRow, members: MemberRow[], createdBy: string) {
  // Members first, so their open sockets take the channel's events from the first one on.
  await announceMembers(ctx, members, createdBy);
  await ctx.bus.publish({
    type: 'channel_created',
    tenant: ctx.tenant.slug,
    channelId: channel.id,
    data: channelEvent(channel),
  });
}

function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s || 'channel';
}

export interface CreateChannelInput {
  type: ChannelType;
  name?: string | undefined;
  slug?: string | undefined;
  description?: string | null | undefined;
  topic?: string | null | undefined;
  is_read_only?: boolean | undefined;
  max_members?: number | null | undefined;
  /** Direct: the other users (the creator is always included). Public and private: initial members. */
  member_ids?: string[] | undefined;
}

/**
 * Creates a channel whose creator is its admin (initial members join as members, each with a `join` entry).
 * A direct channel for a set of users that already has one returns that one (`created: false`): the unique
 * `direct_key` (the sorted member ids) makes concurrent creations meet in a single row.
 */
export const createChannel = inOutbox(async function createChannel(
  ctx: TenantContext,
  input: CreateChannelInput,
): Promise<{ channel: ChannelWithStanding; created: boolean }> {
  const me = actorId(ctx);
  const others = [...new Set((input.member_ids ?? []).map((u) => u.toLowerCase()))].filter((u) => u !== me);
  if (input.type === 'direct') return createDirect(ctx, me, others, input.name);
  if (!input.name?.trim())
    throw new AppError('bad_request', 'a channel needs a name', { errors: [{ field: 'name', message: 'required' }] });
  if (input.max_members && others.length + 1 > input.max_members)
    throw new AppError('bad_request', `${others.length + 1} members exceed max_members (${input.max_members})`, {
      errors: [{ field: 'member_ids', message: 'more members than max_members allows' }],
    });
  const { channels: c, channelMembers: m, chatEntries: e } = ctx.tenant.tables;
  const slug = input.slug ?? slugify(input.name);
  let created: { channel: ChannelRow; members: MemberRow[]; joins: EntryRow[] };
  try {
    created = await ctx.db.transaction(async (tx) => {
      const [channel] = await tx
        .insert(c)
        .values({
          name: input.name!.trim(),
          slug,
          description: input.description ?? null,
          topic: input.topic ?? null,
          type: input.type,
          isReadOnly: input.is_read_only ?? false,
          maxMembers: input.max_members ?? null,
          createdBy: me,
        })
        .returning();
      const users = [me, ...others];
      const joins = await tx
        .insert(e)
        .values(users.map((userId) => ({ channelId: channel!.id, userId, entryType: 'join', content: null })))
        .returning();
      // History before one's own join is not unread: each marker starts at the newest join entry.
      const marker = Math.max(...joins.map((j) => j.id));
      const members = await tx
        .insert(m)
        .values(
          users.map((userId, i) => ({
            channelId: channel!.id,
            userId,
            role: (i === 0 ? 'admin' : 'member') as MemberRole,
            lastReadEntryId: marker,
          })),
        )
        .returning();
      return { channel: channel!, members, joins };
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError('conflict', `a channel with slug '${slug}' already exists`, {
        errors: [{ field: 'slug', message: 'taken' }],
      });
    throw err;
  }
  await announceCreated(ctx, created.channel, created.members, me);
  await announceEntries(ctx, created.joins);
  return {
    channel: {
      ...channelView(created.channel),
      ...standingOf(created.members.find((x) => x.userId === me)!, created.members.length),
    },
    created: true,
  };
});

async function createDirect(
  ctx: TenantContext,
  me: string,
  others: string[],
  name: string | undefined,
): Promise<{ channel: ChannelWithStanding; created: boolean }> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  if (!others.length)
    throw new AppError('bad_request', 'a direct channel needs at least one other member', {
      errors: [{ field: 'member_ids', message: 'name at least one other user' }],
    });
  const users = [me, ...others].sort();
  const directKey = users.join(',');
  const result = await ctx.db.transaction(async (tx) => {
    // A racing creation of the same key waits on the index, then finds the winner's committed row.
    const [row] = await tx
      .insert(c)
      .values({
        name: name?.trim() || 'Direct message',
        slug: `dm-${randomUUID()}`,
        type: 'direct',
        directKey,
        createdBy: me,
      })
      .onConflictDoNothing({ target: c.directKey })
      .returning();
    if (!row) {
      const [existing] = await tx.select().from(c).where(eq(c.directKey, directKey));
      return { channel: existing!, members: [] as MemberRow[] };
    }
    const members = await tx
      .insert(m)
      .values(users.map((userId) => ({ channelId: row.id, userId, role: 'member' as MemberRole })))
      .returning();
    return { channel: row, members };
  });
  if (!result.members.length) {
    const standing = await standingFor(ctx, result.channel.id, me);
    return { channel: { ...channelView(result.channel), ...standing }, created: false };
  }
  await announceCreated(ctx, result.channel, result.members, me);
  const mine = result.members.find((x) => x.userId === me)!;
  return { channel: { ...channelView(result.channel), ...standingOf(mine, result.members.length) }, created: true };
}

function standingOf(member: MemberRow, memberCount: number) {
  return {
    is_member: true,
    role: member.role as MemberRole,
    member_count: memberCount,
    unread_count: 0,
    mention_count: 0,
  };
}

/** The caller's standing in one channel (one query): membership, role, member count, unread and mention counts. */
export async function standingFor(ctx: TenantContext, channelId: number, userId: string) {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  // Without a membership row the marker is null, and so are both counts' comparisons: 0.
  const { unread, mentions } = countColumns(ctx, userId);
  const [row] = await ctx.db
    .select({ role: m.role, memberCount: memberCountColumn(ctx), unread, mentions })
    .from(c)
    .leftJoin(m, and(eq(m.channelId, c.id), eq(m.userId, userId)))
    .where(eq(c.id, channelId));
  return {
    is_member: !!row?.role,
    role: (row?.role ?? null) as MemberRole | null,
    member_count: row?.memberCount ?? 0,
    unread_count: row?.role ? row.unread : 0,
    mention_count: row?.role ? row.mentions : 0,
  };
}

/** GET /channels/{id}: the channel as the caller may see it, with their standing in it. */
export async function getChannel(ctx: TenantContext, id: number): Promise<ChannelWithStanding> {
  const { channel } = await visibleChannel(ctx, id);
  return { ...channelView(channel), ...(await standingFor(ctx, id, actorId(ctx))) };
}

export interface ListChannelsQuery {
  /** Public channels the caller is not in (to join), instead of the caller's own. */
  discover?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * The caller's channels (not archived), oldest first by id, each with its unread and mention counts — one
 * query for the page, whatever its size. With `discover`, the public channels the caller could join.
 */
export async function listChannels(ctx: TenantContext, q: ListChannelsQuery): Promise<Page<ChannelWithStanding>> {
  const { channels: c, channelMembers: m } = ctx.tenant.tables;
  const me = actorId(ctx);
  const after = q.cursor ? (decodeCursor(q.cursor, ['int'])[0] as number) : 0;
  const memberCount = memberCountColumn(ctx);
  let items: ChannelWithStanding[];
  if (q.discover) {
    const rows = await ctx.db
      .select({ channel: c, memberCount })
      .from(c)
      .where(
        and(
          eq(c.type, 'public'),
          eq(c.isArchived, false),
          gt(c.id, after),
          sql`not exists (select 1 from ${m} dm where dm.channel_id = ${c.id} and dm.user_id = ${me}::uuid)`,
        ),
      )
      .orderBy(asc(c.id))
      .limit(q.limit + 1);
    items = rows.map((r) => ({
      ...channelView(r.channel),
      is_member: false,
      role: null,
      member_count: r.memberCount,
      unread_count: 0,
      mention_count: 0,
    }));
  } else {
    const { unread, mentions } = countColumns(ctx, me);
    const where: SQL[] = [eq(c.isArchived, false), gt(c.id, after)];
    const rows = await ctx.db
      .select({ channel: c, role: m.role, memberCount, unread, mentions })
      .from(c)
      .innerJoin(m, and(eq(m.channelId, c.id), eq(m.userId, me)))
      .where(and(...where))
      .orderBy(asc(c.id))
      .limit(q.limit + 1);
    items = rows.map((r) => ({
      ...channelView(r.channel),
      is_member: true,
      role: r.role as MemberRole,
      member_count: r.memberCount,
      unread_count: r.unread,
      mention_count: r.mentions,
    }));
  }
  const more = items.length > q.limit;
  const data = more ? items.slice(0, q.limit) : items;
  return { data, next_cursor: more ? encodeCursor([data[data.length - 1]!.id]) : null };
}

export interface UpdateChannelInput {
  name?: string | undefined;
  description?: string | null | undefined;
  topic?: string | null | undefined;
  is_read_only?: boolean | undefined;
  /** Lowering it below the current count only stops new joins. */
  max_members?: number | null | undefined;
}

/** Channel admins (and the tenant's admins) change a channel. */
export const updateChannel = inOutbox(async function updateChannel(
  ctx: TenantContext,
  id: number,
  input: UpdateChannelInput,
): Promise<ChannelWithStanding> {
  const { channels: c } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, id);
  if (!canAdminister(ctx, member)) throw new AppError('forbidden', 'only channel admins change a channel');
  const [row] = await ctx.db
    .update(c)
    .set({
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.topic !== undefined ? { topic: input.topic } : {}),
      ...(input.is_read_only !== undefined ? { isReadOnly: input.is_read_only } : {}),
      ...(input.max_members !== undefined ? { maxMembers: input.max_members } : {}),
      updatedAt: new Date(),
    })
    .where(eq(c.id, id))
    .returning();
  if (!row) throw new AppError('not_found', `channel ${id} not found`); // purged meanwhile
  await ctx.bus.publish({ type: 'channel_updated', tenant: ctx.tenant.slug, channelId: id, data: channelEvent(row) });
  return { ...channelView(row), ...(await standingFor(ctx, id, actorId(ctx))) };
});

/**
 * Channel admins archive a channel (history stays readable, nothing new is written); with `purge`, the
 * tenant's admins delete it with its entries. Archiving an archived channel changes nothing.
 */
export const deleteChannel = inOutbox(async function deleteChannel(
  ctx: TenantContext,
  id: number,
  purge: boolean,
): Promise<void> {
  const { channels: c } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, id);
  if (purge) {
    if (!isTenantAdmin(ctx.actor!)) throw new AppError('forbidden', 'only tenant admins purge a channel');
    await ctx.db.delete(c).where(eq(c.id, id));
  } else {
    if (!canAdminister(ctx, member)) throw new AppError('forbidden', 'only channel admins archive a channel');
    if (channel.isArchived) return;
    const now = new Date();
    await ctx.db.update(c).set({ isArchived: true, archivedAt: now, updatedAt: now }).where(eq(c.id, id));
  }
  await ctx.bus.publish({
    type: 'channel_deleted',
    tenant: ctx.tenant.slug,
    channelId: id,
    data: { channel_id: id, purged: purge },
  });
});
