/** Reactions: one per user, entry and emoji (the primary key), so concurrent or repeated toggles settle exactly. */
import { and, eq } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { inOutbox } from '../platform/outbox.js';
import { AppError } from '../platform/errors.js';
import { actorId, requireActive, requireMember, requireMessage, visibleEntry } from './access.js';
import { reactionsOf } from './entries.js';
import type { ReactionMap } from './views.js';

/**
 * Adds (`on`) or removes the caller's `emoji` on a message. Adding needs membership of an active channel; anyone
 * may take their own reaction back. Repeating either changes nothing and announces nothing.
 */
export const setReaction = inOutbox(async function setReaction(
  ctx: TenantContext,
  id: number,
  emoji: string,
  on: boolean,
): Promise<{ entry_id: number; channel_id: number; reactions: ReactionMap }> {
  const { chatReactions: r } = ctx.tenant.tables;
  const me = actorId(ctx);
  const access = await visibleEntry(ctx, id);
  const { entry } = access;
  requireMessage(entry, 'reacted to');
  const symbol = emoji.normalize('NFC');
  if (on) {
    requireMember(access, 'react');
    requireActive(access.channel);
    if (entry.isDeleted) throw new AppError('conflict', `message ${id} is deleted`);
  }
  const changed = on
    ? await ctx.db.insert(r).values({ entryId: id, userId: me, emoji: symbol }).onConflictDoNothing().returning()
    : await ctx.db
        .delete(r)
        .where(and(eq(r.entryId, id), eq(r.userId, me), eq(r.emoji, symbol)))
        .returning();
  const reactions = entry.isDeleted ? {} : ((await reactionsOf(ctx, [id])).get(id) ?? {});
  if (changed.length)
    await ctx.bus.publish({
      type: on ? 'reaction_added' : 'reaction_removed',
      tenant: ctx.tenant.slug,
      channelId: entry.channelId,
      data: { channel_id: entry.channelId, entry_id: id, user_id: me, emoji: symbol, reactions },
    });
  return { entry_id: id, channel_id: entry.channelId, reactions };
});
