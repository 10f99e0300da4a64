/** Chat entries: send (idempotent by client_msg_id), list by keyset, edit with history, soft delete, read state. */
import { and, asc, desc, eq, gt, inArray, lt, rawRows, sql } from '@comms/db';
import type { TenantContext } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { isUniqueViolation } from '../inbox/conversations.js';
import { canModerate, visibleChannel } from './channels.js';
import { enqueueNotifications } from './notifications.js';

type Tables = TenantContext['tenant']['tables'];
export type EntryRow = Tables['chatEntries']['$inferSelect'];

export interface Attachment {
  file_id: string;
  url: string;
  name: string;
  size: number;
  mime_type: string;
}

export function entryView(r: EntryRow, reactions: Record<string, string[]> = {}) {
  return {
    id: r.id,
    channel_id: r.channelId,
    user_id: r.userId,
    entry_type: r.entryType,
    // A deleted entry keeps its place in the channel, not its content.
    content: r.isDeleted ? null : r.content,
    attachments: r.isDeleted ? [] : r.attachments,
    reply_to_id: r.replyToId,
    client_msg_id: r.clientMsgId,
    is_edited: r.isEdited,
    edited_at: r.editedAt ? r.editedAt.toISOString() : null,
    is_deleted: r.isDeleted,
    is_pinned: r.isPinned,
    reactions,
    created_at: r.createdAt.toISOString(),
  };
}

const MENTION = /<@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>/gi;
const BROADCAST = /(^|\s)@(everyone|channel|here)\b/i;

export async function postEntry(
  ctx: TenantContext,
  channelId: number,
  input: {
    content?: string | null;
    attachments?: Attachment[];
    reply_to_id?: number | null;
    client_msg_id?: string | null;
    mentions?: string[];
  },
): Promise<{ entry: ReturnType<typeof entryView>; created: boolean }> {
  const { chatEntries: e, mentions: mn, channelMembers: m, channels: c } = ctx.tenant.tables;
  const { channel, member } = await visibleChannel(ctx, channelId);
  if (!member) throw new AppError('forbidden', 'join the channel to post in it');
  if (channel.isArchived) throw new AppError('conflict', 'the channel is archived');
  if (channel.isReadOnly && !canModerate(ctx, member)) throw new AppError('forbidden', 'the channel is read-only');
  if (!input.content?.trim() && !input.attachments?.length)
    throw new AppError('bad_request', 'a message needs content or attachments', {
      errors: [{ field: 'content', message: 'required' }],
    });
  const me = ctx.actor!.userId;
  if (input.client_msg_id) {
    const [prior] = await ctx.db
      .select()
      .from(e)
      .where(and(eq(e.channelId, channelId), eq(e.userId, me), eq(e.clientMsgId, input.client_msg_id)));
    if (prior) return { entry: entryView(prior), created: false };
  }
  if (input.reply_to_id) {
    const [parent] = await ctx.db
      .select({ id: e.id })
      .from(e)
      .where(and(eq(e.id, input.reply_to_id), eq(e.channelId, channelId)));
    if (!parent)
      throw new AppError('unprocessable', `entry ${input.reply_to_id} is not in this channel`, {
        errors: [{ field: 'reply_to_id', message: 'not in this channel' }],
      });
  }
  const content = input.content ?? null;
  const named = new Set<string>([...(content ?? '').matchAll(MENTION)].map((x) => x[1]!.toLowerCase()));
  for (const u of input.mentions ?? []) named.add(u.toLowerCase());
  const broadcast = content ? BROADCAST.exec(content)?.[2]?.toLowerCase() : undefined;
  let row: EntryRow;
  let mentioned: string[] = [];
  try {
    ({ row, mentioned } = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(e)
        .values({
          channelId,
          userId: me,
          content,
          attachments: (input.attachments ?? []) as never,
          replyToId: input.reply_to_id ?? null,
          clientMsgId: input.client_msg_id ?? null,
        })
        .returning();
      // Mentions count for members only.
      const members = (await tx.select({ userId: m.userId }).from(m).where(eq(m.channelId, channelId))).map(
        (x) => x.userId,
      );
      const targets = broadcast
        ? members.filter((u) => u !== me)
        : members.filter((u) => named.has(u.toLowerCase()) && u !== me);
      if (targets.length)
        await tx
          .insert(mn)
          .values(targets.map((userId) => ({ entryId: row!.id, channelId, userId, mentionType: broadcast ?? 'user' })))
          .onConflictDoNothing();
      await tx.update(c).set({ lastActivityAt: new Date() }).where(eq(c.id, channelId));
      return { row: row!, mentioned: targets };
    }));
  } catch (err) {
    // Two retries of one send raced: the first one stands.
    if (input.client_msg_id && isUniqueViolation(err)) {
      const [prior] = await ctx.db
        .select()
        .from(e)
        .where(and(eq(e.channelId, channelId), eq(e.userId, me), eq(e.clientMsgId, input.client_msg_id)));
      if (prior) return { entry: entryView(prior), created: false };
    }
    throw err;
  }
  const view = entryView(row);
  await ctx.bus.publish({ type: 'entry_created', tenant: ctx.tenant.slug, channelId, data: view });
  await enqueueNotifications(ctx, { id: row.id, channelId, authorId: me }, channel.type, mentioned);
  for (const userId of mentioned)
    await ctx.bus.publish({
      type: 'mention_created',
      tenant: ctx.tenant.slug,
      channelId,
      userIds: [userId],
      data: { channel_id: channelId, entry_id: row.id, user_id: userId },
    });
  return { entry: view, created: true };
}

async function reactionsOf(ctx: TenantContext, ids: number[]): Promise<Map<number, Record<string, string[]>>> {
  const { chatReactions: r } = ctx.tenant.tables;
  const out = new Map<number, Record<string, string[]>>();
  if (!ids.length) return out;
  const rows = await ctx.db.select().from(r).where(inArray(r.entryId, ids)).orderBy(asc(r.createdAt));
  for (const x of rows) {
    const map = out.get(x.entryId) ?? {};
    map[x.emoji] = [...(map[x.emoji] ?? []), x.userId];
    out.set(x.entryId, map);
  }
  return out;
}

/**
 * Keyset pages: `before` (and the default) newest first; `after` oldest first. `next_cursor` continues in the
 * same direction, so walking either way visits every entry once.
 */
export async function listEntries(
  ctx: TenantContext,
  channelId: number,
  q: { before?: number; after?: number; around?: number; pinned?: boolean; limit: number },
) {
  const { chatEntries: e } = ctx.tenant.tables;
  await visibleChannel(ctx, channelId);
  const pinned = q.pinned ? eq(e.isPinned, true) : undefined;
  const page = async (where: ReturnType<typeof lt> | undefined, forward: boolean, limit: number) =>
    ctx.db
      .select()
      .from(e)
      .where(and(eq(e.channelId, channelId), pinned, where))
      .orderBy(forward ? asc(e.id) : desc(e.id))
      .limit(limit);
  let rows: EntryRow[];
  let next: string | null = null;
  if (q.around !== undefined) {
    // The entry and up to half the page on each side, oldest first (jumping to a search hit or a mention).
    const half = Math.max(1, Math.floor(q.limit / 2));
    const older = await page(lt(e.id, q.around), false, half);
    const newer = await page(sql`${e.id} >= ${q.around}`, true, q.limit - older.length);
    rows = [...older.reverse(), ...newer];
  } else {
    const forward = q.after !== undefined;
    const where = q.before !== undefined ? lt(e.id, q.before) : q.after !== undefined ? gt(e.id, q.after) : undefined;
    const fetched = await page(where, forward, q.limit + 1);
    rows = fetched.slice(0, q.limit);
    const last = rows[rows.length - 1];
    next = fetched.length > q.limit && last ? String(last.id) : null;
  }
  const reactions = await reactionsOf(
    ctx,
    rows.map((r) => r.id),
  );
  return { data: rows.map((r) => entryView(r, reactions.get(r.id))), next_cursor: next };
}

async function findEntry(ctx: TenantContext, id: number): Promise<EntryRow> {
  const { chatEntries: e } = ctx.tenant.tables;
  const [row] = await ctx.db.select().from(e).where(eq(e.id, id));
  if (!row) throw notFound(`entry ${id}`);
  return row;
}

/** The author edits; the previous content is kept in chat_entry_edits. */
export async function editEntry(ctx: TenantContext, id: number, content: string) {
  const { chatEntries: e, chatEntryEdits: h } = ctx.tenant.tables;
  const entry = await findEntry(ctx, id);
  await visibleChannel(ctx, entry.channelId);
  if (entry.userId !== ctx.actor!.userId) throw new AppError('forbidden', 'only the author edits a message');
  if (entry.isDeleted) throw new AppError('conflict', 'the message is deleted');
  const row = await ctx.db.transaction(async (tx) => {
    await tx.insert(h).values({ entryId: id, previousContent: entry.content, editedBy: ctx.actor!.userId });
    const [row] = await tx
      .update(e)
      .set({ content, isEdited: true, editedAt: new Date(), editedBy: ctx.actor!.userId })
      .where(eq(e.id, id))
      .returning();
    return row!;
  });
  const view = entryView(row);
  await ctx.bus.publish({ type: 'entry_edited', tenant: ctx.tenant.slug, channelId: row.channelId, data: view });
  return view;
}

/** The author, or a moderator/admin: soft delete (content hidden from later reads). */
export async function deleteEntry(ctx: TenantContext, id: number): Promise<void> {
  const { chatEntries: e } = ctx.tenant.tables;
  const entry = await findEntry(ctx, id);
  const { member } = await visibleChannel(ctx, entry.channelId);
  if (entry.userId !== ctx.actor!.userId && !canModerate(ctx, member))
    throw new AppError('forbidden', 'only the author or a moderator deletes a message');
  await ctx.db
    .update(e)
    .set({ isDeleted: true, deletedAt: new Date(), deletedBy: ctx.actor!.userId })
    .where(eq(e.id, id));
  await ctx.bus.publish({
    type: 'entry_deleted',
    tenant: ctx.tenant.slug,
    channelId: entry.channelId,
    data: { id, channel_id: entry.channelId },
  });
}

/** Moves the caller's read marker forward (never back) and marks their mentions up to it read. */
export async function markChannelRead(ctx: TenantContext, channelId: number, entryId: number) {
  const { channelMembers: m, mentions: mn } = ctx.tenant.tables;
  const { member } = await visibleChannel(ctx, channelId);
  if (!member) throw new AppError('forbidden', 'not a member of this channel');
  const me = ctx.actor!.userId;
  await rawRows(
    ctx.db,
    sql`update ${m} set last_read_entry_id = greatest(last_read_entry_id, ${entryId}), last_read_at = now()
        where channel_id = ${channelId} and user_id = ${me}`,
  );
  await ctx.db
    .update(mn)
    .set({ isRead: true })
    .where(and(eq(mn.channelId, channelId), eq(mn.userId, me), sql`${mn.entryId} <= ${entryId}`));
  const [row] = await ctx.db
    .select()
    .from(m)
    .where(and(eq(m.channelId, channelId), eq(m.userId, me)));
  await ctx.bus.publish({
    type: 'read',
    tenant: ctx.tenant.slug,
    channelId,
    userIds: [me],
    data: { channel_id: channelId, user_id: me, last_read_entry_id: row!.lastReadEntryId },
  });
  return {
    channel_id: channelId,
    last_read_entry_id: row!.lastReadEntryId,
    last_read_at: row!.lastReadAt?.toISOString() ?? null,
  };
}

/** Moderators and admins pin and unpin. */
export async function pinEntry(ctx: TenantContext, id: number, pinned: boolean) {
  const { chatEntries: e } = ctx.tenant.tables;
  const entry = await findEntry(ctx, id);
  const { member } = await visibleChannel(ctx, entry.channelId);
  if (!canModerate(ctx, member)) throw new AppError('forbidden', 'only moderators and admins pin messages');
  const [row] = await ctx.db
    .update(e)
    .set({ isPinned: pinned, pinnedAt: pinned ? new Date() : null, pinnedBy: pinned ? ctx.actor!.userId : null })
    .where(eq(e.id, id))
    .returning();
  const view = entryView(row!, (await reactionsOf(ctx, [id])).get(id));
  await ctx.bus.publish({ type: 'entry_edited', tenant: ctx.tenant.slug, channelId: row!.channelId, data: view });
  return view;
}

/** One reaction per user and emoji (idempotent under concurrent toggles); members only. */
export async function setReaction(ctx: TenantContext, id: number, emoji: string, on: boolean) {
  const { chatReactions: r } = ctx.tenant.tables;
  const entry = await findEntry(ctx, id);
  const { member } = await visibleChannel(ctx, entry.channelId);
  if (!member) throw new AppError('forbidden', 'join the channel to react');
  const me = ctx.actor!.userId;
  const changed = on
    ? await ctx.db.insert(r).values({ entryId: id, userId: me, emoji }).onConflictDoNothing().returning()
    : await ctx.db
        .delete(r)
        .where(and(eq(r.entryId, id), eq(r.userId, me), eq(r.emoji, emoji)))
        .returning();
  const reactions = (await reactionsOf(ctx, [id])).get(id) ?? {};
  if (changed.length)
    await ctx.bus.publish({
      type: on ? 'reaction_added' : 'reaction_removed',
      tenant: ctx.tenant.slug,
      channelId: entry.channelId,
      data: { entry_id: id, channel_id: entry.channelId, user_id: me, emoji, reactions },
    });
  return { entry_id: id, reactions };
}

export async function listEdits(ctx: TenantContext, id: number) {
  const { chatEntryEdits: h } = ctx.tenant.tables;
  const entry = await findEntry(ctx, id);
  await visibleChannel(ctx, entry.channelId);
  const rows = await ctx.db.select().from(h).where(eq(h.entryId, id)).orderBy(asc(h.id));
  return rows.map((x) => ({
    previous_content: x.previousContent,
    edited_by: x.editedBy,
    edited_at: x.editedAt.toISOString(),
  }));
}

const typingSeen = new Map<string, number>();
/** Members only; at most one broadcast per user and channel every 2 s (per process). Ephemeral. */
export async function sendTyping(ctx: TenantContext, channelId: number): Promise<{ broadcast: boolean }> {
  const { member } = await visibleChannel(ctx, channelId);
  if (!member) throw new AppError('forbidden', 'not a member of this channel');
  const key = `${ctx.tenant.slug}:${channelId}:${ctx.actor!.userId}`;
  const now = Date.now();
  if ((typingSeen.get(key) ?? 0) > now - 2_000) return { broadcast: false };
  if (typingSeen.size > 50_000) typingSeen.clear();
  typingSeen.set(key, now);
  await ctx.bus.publish({
    type: 'typing',
    tenant: ctx.tenant.slug,
    channelId,
    ephemeral: true,
    data: { channel_id: channelId, user_id: ctx.actor!.userId, expires_in_ms: 5_000 },
  });
  return { broadcast: true };
}
