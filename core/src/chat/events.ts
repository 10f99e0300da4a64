/**
 * Chat events (DESIGN §10), published after the write commits. Every one names its channel (`channelId`, which
 * the realtime layer delivers by) and carries `channel_id` in its snake_case data.
 */
import type { TenantContext } from '../platform/context.js';
import { type EntryRow, entryView, type MemberRow, memberView } from './views.js';

/**
 * `member_joined` for each new member. Its `channel_id` and `user_id` are what the realtime layer uses to start
 * delivering the channel's events to that user's open sockets, so it goes out before anything else about them.
 */
export async function announceMembers(ctx: TenantContext, members: MemberRow[], addedBy: string): Promise<void> {
  for (const member of members)
    await ctx.bus.publish({
      type: 'member_joined',
      tenant: ctx.tenant.slug,
      channelId: member.channelId,
      data: { ...memberView(member), added_by: addedBy },
    });
}

/** `entry_created` for entries that have no reactions yet (new messages, join and leave entries). */
export async function announceEntries(ctx: TenantContext, entries: EntryRow[]): Promise<void> {
  for (const entry of entries)
    await ctx.bus.publish({
      type: 'entry_created',
      tenant: ctx.tenant.slug,
      channelId: entry.channelId,
      data: entryView(entry),
    });
}
