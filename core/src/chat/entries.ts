/**
 * Chat entries: send (idempotent by `client_msg_id`), list by keyset in either direction or around an entry,
 * edit with history, soft delete, pin.
 */
import { and, asc, desc, eq, gt, inArray, lt, type SQL, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { inOutbox } from '../platform/outbox.js';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.js';
import {
  actorId,
  canModerate,
  requireActive,
  requireMember,
  requireMessage,
  requirePoster,
  visibleChannel,
  visibleEntry,
} from './access.js';
import { findMedia, mediaView } from '../platform/media/service.js';
import { announceEntries } from './events.js';
import { announceMentions, parseMentions, writeMentions } from './mentions.js';
import { enqueueNotifications } from './notifications.js';
import { type Attachment, type EntryRow, type EntryView, entryView, type ReactionMap } from './views.js';

export interface PostEntryInput {
  content?: string | null | undefined;
  attachments?: Attachment[] | undefined;
  /** Files of the tenant's media store (uploads): attached with their download URL. */
  media_ids?: number[] | undefined;
  reply_to_id?: number | null | undefined;
  /** The client's id for this send: a retry with the same one returns the first entry. */
  client_msg_id?: string | null | undefined;
  /** Users mentioned besides the `<@UUID>`s in the content. */
  mentions?: string[] | undefined;
}

/** The media store's files as chat attachments: the chat's fields, and the shared contract's. 422 for an unknown id. */
async function mediaAttachments(ctx: TenantContext, ids: number[]): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const id of ids) {
    const row = await findMedia(ctx, id);
    if (!row)
      throw new AppError('unprocessable', `media ${id} not found: upload the file first (POST .../media)`, {
        errors: [{ field: 'media_ids', message: `no media ${id}` }],
      });
    const view = mediaView(ctx.tenant.slug, row);
    out.push({
      file_id: String(view.id),
      url: view.url,
      name: view.filename ?? `media-${view.id}`,
      size: view.size,
      mime_type: view.mime_type,
      ...{ id: view.id, sha256: view.sha256, filename: view.filename, status: 'stored' },
    });
  }
  return out;
}

/**
 * Posts a message (members only; in a read-only channel, moderators and admins only). A retry with a
 * `client_msg_id` this user already sent in this channel returns that entry with `created: false`, also when
 * the two requests race: the unique (channel_id, user_id, client_msg_id) index lets one insert win.
 */
export const postEntry = inOutbox(async function postEntry(
  ctx: TenantContext,
  channelId: number,
  input: PostEntryInput,
): Promise<{ entry: EntryView; created: boolean }> {
  const { channels: c, chatEntries: e } = ctx.tenant.tables;
  const me = actorId(ctx);
  const access = await visibleChannel(ctx, channelId);
  requirePoster(ctx, access, 'post in it');
  const files = await mediaAttachments(ctx, input.media_ids ?? []);
  const attachments = [...(input.attachments ?? []), ...files];
  if (!input.content?.trim() && !attachments.length)
    throw new AppError('bad_request', 'a message needs content or attachments', {
      errors: [{ field: 'content', message: 'required unless there are attachments' }],
    });
  const clientMsgId = input.client_msg_id ?? null;
  const prior = async () => {
    if (!clientMsgId) return undefined;
    const [row] = await ctx.db
      .select()
      .from(e)
      .where(and(eq(e.channelId, channelId), eq(e.userId, me), eq(e.clientMsgId, clientMsgId)));
    return row ? { entry: entryView(row, (await reactionsOf(ctx, [row.id])).get(row.id)), created: false } : undefined;
  };
  const retried = await prior();
  if (retried) return retried;
  if (input.reply_to_id) {
    const [parent] = await ctx.db
      .select({ id: e.id })
      .from(e)
      .where(and(eq(e.id, input.reply_to_id), eq(e.channelId, channelId)));
    if (!parent)
      throw new AppError('bad_request', `entry ${input.reply_to_id} is not in channel ${channelId}`, {
        errors: [{ field: 'reply_to_id', message: 'not an entry of this channel' }],
      });
  }
  const content = input.content ?? null;
  let written: { row: EntryRow; mentioned: { userId: string; mentionType: string }[] };
  try {
    written = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(e)
        .values({
          channelId,
          userId: me,
          content,
          attachments: attachments as unknown as Record<string, unknown>[],
          replyToId: input.reply_to_id ?? null,
          clientMsgId,
        })
        .returning();
      const mentioned = await writeMentions(
        tx,
        ctx,
        { id: row!.id, channelId, authorId: me },
        parseMentions(content, input.mentions),
      );
      await tx.update(c).set({ lastActivityAt: row!.createdAt }).where(eq(c.id, channelId));
      return { row: row!, mentioned };
    });
  } catch (err) {
    // Two sends of one client_msg_id raced and the other one won: answer with its entry.
    if (clientMsgId && isUniqueViolation(err)) {
      const first = await prior();
      if (first) return first;
    }
    throw err;
  }
  const { row, mentioned } = written;
  const ref = { id: row.id, channelId, authorId: me };
  await announceEntries(ctx, [row]);
  await announceMentions(ctx, ref, mentioned);
  await enqueueNotifications(
    ctx,
    ref,
    access.channel.type,
    mentioned.map((x) => x.userId),
  );
  return { entry: entryView(row), created: true };
});

/** The reactions of these entries, as `{emoji: [user ids]}` in the order they were given. */
export async function reactionsOf(ctx: TenantContext, ids: number[]): Promise<Map<number, ReactionMap>> {
  const { chatReactions: r } = ctx.tenant.tables;
  const out = new Map<number, ReactionMap>();
  if (!ids.length) return out;
  const rows = await ctx.db.select().from(r).where(inArray(r.entryId, ids)).orderBy(asc(r.createdAt), asc(r.userId));
  for (const x of rows) {
    const map = out.get(x.entryId) ?? {};
    map[x.emoji] = [...(map[x.emoji] ?? []), x.userId];
    out.set(x.entryId, map);
  }
  return out;
}

export interface ListEntriesQuery {
  before?: number | undefined;
  after?: number | undefined;
  around?: number | undefined;
  pinned?: boolean | undefined;
  limit: number;
}

export interface EntryPage {
  data: EntryView[];
  order: 'newest_first' | 'oldest_first';
  /** Continues in this page's direction (the `older_cursor` of a newest-first page, else the `newer_cursor`). */
  next_cursor: string | null;
  /** Pass as `before` for the entries older than this page; null when there are none. */
  older_cursor: string | null;
  /** Pass as `after` for the entries newer than this page; null when there are none (yet). */
  newer_cursor: string | null;
}

/**
 * Keyset pages on the entry id. The default and `before` pages are newest first; `after` and `around` pages are
 * oldest first. Every page names the cursors on both sides, so walking in either direction, or turning back,
 * visits each entry exactly once.
 */
export async function listEntries(ctx: TenantContext, channelId: number, q: ListEntriesQuery): Promise<EntryPage> {
  const { chatEntries: e } = ctx.tenant.tables;
  const given = (['before', 'after', 'around'] as const).filter((k) => q[k] !== undefined);
  if (given.length > 1)
    throw new AppError('bad_request', `give one of before, after and around, not ${given.join(' and ')}`, {
      errors: given.slice(1).map((k) => ({ field: `query.${k}`, message: `cannot be combined with ${given[0]}` })),
    });
  await visibleChannel(ctx, channelId);
  const scope = and(eq(e.channelId, channelId), q.pinned ? eq(e.isPinned, true) : undefined);
  const fetch = (where: SQL | undefined, order: 'asc' | 'desc', n: number) =>
    ctx.db
      .select()
      .from(e)
      .where(and(scope, where))
      .orderBy(order === 'asc' ? asc(e.id) : desc(e.id))
      .limit(n);
  const exists = async (where: SQL) =>
    (await ctx.db.select({ id: e.id }).from(e).where(and(scope, where)).limit(1)).length > 0;

  let rows: EntryRow[];
  let order: EntryPage['order'];
  let older: string | null = null;
  let newer: string | null = null;
  if (q.around !== undefined) {
    const [target] = await ctx.db
      .select({ id: e.id })
      .from(e)
      .where(and(eq(e.id, q.around), eq(e.channelId, channelId)));
    if (!target) throw notFound(`entry ${q.around} in channel ${channelId}`);
    // The entry and up to half the page on either side; a short side gives its room to the other.
    const before = await fetch(lt(e.id, q.around), 'desc', q.limit);
    const fromIt = await fetch(sql`${e.id} >= ${q.around}`, 'asc', q.limit);
    const takeOlder = Math.min(before.length, q.limit - Math.min(fromIt.length, Math.ceil(q.limit / 2)));
    const takeNewer = Math.min(fromIt.length, q.limit - takeOlder);
    rows = [...before.slice(0, takeOlder).reverse(), ...fromIt.slice(0, takeNewer)];
    order = 'oldest_first';
    if (rows.length) {
      if (before.length > takeOlder) older = String(rows[0]!.id);
      if (fromIt.length > takeNewer) newer = String(rows[rows.length - 1]!.id);
    }
  } else if (q.after !== undefined) {
    const fetched = await fetch(gt(e.id, q.after), 'asc', q.limit + 1);
    rows = fetched.slice(0, q.limit);
    order = 'oldest_first';
    if (fetched.length > q.limit) newer = String(rows[rows.length - 1]!.id);
    // An empty page's older side is everything up to `after` itself (compared in SQL: after + 1 may not fit).
    const first = rows[0]?.id;
    if (await exists(first !== undefined ? lt(e.id, first) : sql`${e.id} <= ${q.after}`))
      older = String(first ?? q.after + 1);
  } else {
    const fetched = await fetch(q.before !== undefined ? lt(e.id, q.before) : undefined, 'desc', q.limit + 1);
    rows = fetched.slice(0, q.limit);
    order = 'newest_first';
    if (fetched.length > q.limit) older = String(rows[rows.length - 1]!.id);
    if (q.before !== undefined) {
      const newest = rows[0]?.id ?? q.before - 1;
      if (await exists(gt(e.id, newest))) newer = String(newest);
    }
  }
  const reactions = await reactionsOf(
    ctx,
    rows.filter((r) => !r.isDeleted).map((r) => r.id),
  );
  return {
    data: rows.map((r) => entryView(r, reactions.get(r.id))),
    order,
    next_cursor: order === 'newest_first' ? older : newer,
    older_cursor: older,
    newer_cursor: newer,
  };
}

export interface EditEntryInput {
  content: string;
  /** Users mentioned besides the `<@UUID>`s in the new content. */
  mentions?: string[] | undefined;
}

/**
 * The author edits their message (while a member, in a channel not archived). The content it replaces goes to
 * `chat_entry_edits`, read under the row's lock so two racing edits each record what they replaced. New mentions
 * in the edit are added (and announced); mentions are never taken back by an edit.
 */
export const editEntry = inOutbox(async function editEntry(
  ctx: TenantContext,
  id: number,
  input: EditEntryInput,
): Promise<EntryView> {
  const { chatEntries: e, chatEntryEdits: h } = ctx.tenant.tables;
  const me = actorId(ctx);
  const access = await visibleEntry(ctx, id);
  const { entry, channel } = access;
  requireMessage(entry, 'edited');
  if (entry.userId !== me) throw new AppError('forbidden', 'only the author edits a message');
  requireMember(access, 'edit in it');
  requireActive(channel);
  const { row, mentioned } = await ctx.db.transaction(async (tx) => {
    const [locked] = await tx.select().from(e).where(eq(e.id, id)).for('update');
    if (!locked) throw notFound(`message ${id}`);
    if (locked.isDeleted) throw new AppError('conflict', `message ${id} is deleted`);
    await tx.insert(h).values({ entryId: id, previousContent: locked.content, editedBy: me });
    const [row] = await tx
      .update(e)
      .set({ content: input.content, isEdited: true, editedAt: new Date(), editedBy: me })
      .where(eq(e.id, id))
      .returning();
    const mentioned = await writeMentions(
      tx,
      ctx,
      { id, channelId: entry.channelId, authorId: me },
      parseMentions(input.content, input.mentions),
    );
    return { row: row!, mentioned };
  });
  const view = entryView(row, (await reactionsOf(ctx, [id])).get(id));
  await ctx.bus.publish({ type: 'entry_edited', tenant: ctx.tenant.slug, channelId: row.channelId, data: view });
  await announceMentions(ctx, { id, channelId: row.channelId, authorId: me }, mentioned);
  return view;
});

/**
 * The author, or the channel's moderators and admins (and the tenant's admins), delete a message. Soft: the row
 * keeps its place, later reads show `is_deleted` with no content, attachments, reactions or edit history, and a
 * pin is lifted. Deleting a deleted message changes nothing.
 */
export const deleteEntry = inOutbox(async function deleteEntry(ctx: TenantContext, id: number): Promise<void> {
  const { chatEntries: e } = ctx.tenant.tables;
  const me = actorId(ctx);
  const { entry, member } = await visibleEntry(ctx, id);
  requireMessage(entry, 'deleted');
  if (entry.userId !== me && !canModerate(ctx, member))
    throw new AppError('forbidden', 'only the author, or a moderator or admin of the channel, deletes a message');
  if (entry.isDeleted) return;
  const [row] = await ctx.db
    .update(e)
    .set({
      isDeleted: true,
      deletedAt: new Date(),
      deletedBy: me,
      isPinned: false,
      pinnedAt: null,
      pinnedBy: null,
    })
    .where(and(eq(e.id, id), eq(e.isDeleted, false)))
    .returning();
  if (!row) return; // deleted by a racing request, which announced it
  await ctx.bus.publish({
    type: 'entry_deleted',
    tenant: ctx.tenant.slug,
    channelId: row.channelId,
    data: { id, entry_id: id, channel_id: row.channelId, deleted_by: me, deleted_at: row.deletedAt!.toISOString() },
  });
});

/**
 * Moderators and admins pin (`pinned: true`) or unpin (`pinned: false`) a message: it sets the state, it does not
 * toggle, so a retry does what the first call did. A change is announced as `entry_edited` with the entry.
 */
export const pinEntry = inOutbox(async function pinEntry(
  ctx: TenantContext,
  id: number,
  pinned: boolean,
): Promise<EntryView> {
  const { chatEntries: e } = ctx.tenant.tables;
  const me = actorId(ctx);
  const { entry, channel, member } = await visibleEntry(ctx, id);
  requireMessage(entry, 'pinned');
  if (!canModerate(ctx, member)) throw new AppError('forbidden', 'only moderators and admins pin messages');
  requireActive(channel);
  if (entry.isDeleted) throw new AppError('conflict', `message ${id} is deleted`);
  const [row] = await ctx.db
    .update(e)
    .set({ isPinned: pinned, pinnedAt: pinned ? new Date() : null, pinnedBy: pinned ? me : null })
    .where(and(eq(e.id, id), eq(e.isDeleted, false), sql`${e.isPinned} <> ${pinned}`))
    .returning();
  const current = row ?? entry;
  const view = entryView(current, (await reactionsOf(ctx, [id])).get(id));
  if (row)
    await ctx.bus.publish({ type: 'entry_edited', tenant: ctx.tenant.slug, channelId: row.channelId, data: view });
  return view;
});

/** A message's earlier versions, oldest first (none for a deleted message: its content is gone from reads). */
export async function listEdits(ctx: TenantContext, id: number) {
  const { chatEntryEdits: h } = ctx.tenant.tables;
  const { entry } = await visibleEntry(ctx, id);
  if (entry.isDeleted) return [];
  const rows = await ctx.db.select().from(h).where(eq(h.entryId, id)).orderBy(asc(h.id));
  return rows.map((x) => ({
    id: x.id,
    entry_id: x.entryId,
    previous_content: x.previousContent,
    edited_by: x.editedBy,
    edited_at: x.editedAt.toISOString(),
  }));
}
