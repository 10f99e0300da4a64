/**
 * Mentions and direct messages for members who are not connected go to the platform's Notification
 * Service (a job with retries), respecting each member's `notification_level` and `is_muted`.
 */
import { and, eq, inArray } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import type { NotificationJob } from '../platform/queue/definitions.js';

/** Who should hear about an entry: mentioned members, and in a direct channel every other member. */
export async function enqueueNotifications(
  ctx: TenantContext,
  entry: { id: number; channelId: number; authorId: string },
  channelType: string,
  mentioned: string[],
): Promise<void> {
  const { channelMembers: m } = ctx.tenant.tables;
  const direct = channelType === 'direct';
  const members = await ctx.db.select().from(m).where(eq(m.channelId, entry.channelId));
  for (const member of members) {
    if (member.userId === entry.authorId || member.isMuted || member.notificationLevel === 'none') continue;
    const reason = mentioned.includes(member.userId) ? 'mention' : direct ? 'direct' : null;
    if (!reason) continue;
    try {
      await ctx.queues.add('notifications', {
        tenant: ctx.tenant.slug,
        user_id: member.userId,
        entry_id: entry.id,
        reason,
      });
    } catch (err) {
      ctx.log.warn({ err: String(err) }, 'notification not queued');
    }
  }
}

/** What the Notification Service is told of one mention or direct message. */
export interface Notification {
  tenant: string;
  user_id: string;
  reason: NotificationJob['reason'];
  channel_id: number;
  entry_id: number;
  author_id: string | null;
  preview: string;
}

/** The notification a notifications job stands for; null when its entry was deleted meanwhile (nothing to tell). */
export async function notificationFor(ctx: TenantContext, job: NotificationJob): Promise<Notification | null> {
  const { chatEntries: e } = ctx.tenant.tables;
  const [entry] = await ctx.db
    .select()
    .from(e)
    .where(and(eq(e.id, job.entry_id), inArray(e.isDeleted, [false])));
  if (!entry) return null;
  return {
    tenant: job.tenant,
    user_id: job.user_id,
    reason: job.reason,
    channel_id: entry.channelId,
    entry_id: entry.id,
    author_id: entry.userId,
    preview: (entry.content ?? '').slice(0, 140),
  };
}
