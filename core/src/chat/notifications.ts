/**
 * Mentions and direct messages for members who are not connected go to the platform's Notification
 * Service (a job with retries), respecting each member's `notification_level` and `is_muted`.
 */
import { and, eq, inArray } from '@comms/db';
import { signToken } from '../platform/auth.js';
import type { TenantContext } from '../platform/context.js';
import { PermanentJobError } from '../platform/queue/index.js';
import type { NotificationJob } from '../platform/queue/definitions.js';
import type { Runtime } from '../platform/runtime.js';

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

/** The notifications job: skip connected users; POST to NOTIFICATION_SERVICE_URL; a non-2xx retries. */
export function createNotificationProcessor(runtime: Runtime) {
  return async (job: NotificationJob): Promise<void> => {
    const url = runtime.config.NOTIFICATION_SERVICE_URL;
    if (!url) return;
    if (await runtime.presence.isOnline(job.tenant, job.user_id)) return;
    const tenant = await runtime.tenants.resolve(job.tenant).catch(() => null);
    if (!tenant) throw new PermanentJobError(`tenant ${job.tenant} is not served`);
    const { chatEntries: e } = tenant.tables;
    const [entry] = await runtime.database.db
      .select()
      .from(e)
      .where(and(eq(e.id, job.entry_id), inArray(e.isDeleted, [false])));
    if (!entry) return; // deleted meanwhile: nothing to tell
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (runtime.config.JWT_SECRET)
      headers.authorization = `Bearer ${await signToken(runtime.config.JWT_SECRET, { sub: '00000000-0000-4000-8000-00000000c0de', role: 'super_admin', type: 'service' }, '5m')}`;
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        tenant: job.tenant,
        user_id: job.user_id,
        reason: job.reason,
        channel_id: entry.channelId,
        entry_id: entry.id,
        author_id: entry.userId,
        preview: (entry.content ?? '').slice(0, 140),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`notification service answered ${res.status}`);
  };
}
