/** The status-update job: a provider's delivery status applied to our outbound message, forward only. */
import { and, eq, inArray, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import type { StatusUpdateJob } from '../platform/queue/definitions.js';
import { applyMessageStatus } from './messages.js';
import { statusPredecessors } from './status.js';
import { messageView } from './views.js';

/** Thrown while the message the status is about has no provider id yet; the job retries. */
export class StatusTargetMissing extends Error {
  override name = 'StatusTargetMissing';
}

export async function applyStatusUpdate(ctx: TenantContext, job: StatusUpdateJob): Promise<{ applied: number }> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  const at = new Date(job.at);
  if (job.external_id) {
    const row = await applyMessageStatus(
      ctx,
      { channelAccountId: job.channel_account_id, externalId: job.external_id },
      job.status,
      { error: job.error, at },
    );
    if (row) return { applied: 1 };
    const [exists] = await ctx.db
      .select({ id: m.id })
      .from(m)
      .where(and(eq(m.channelAccountId, job.channel_account_id), eq(m.externalId, job.external_id)))
      .limit(1);
    // The status may arrive before our send stored the provider id: retry until it matches.
    if (!exists) throw new StatusTargetMissing(`no message with provider id ${job.external_id} yet`);
    return { applied: 0 }; // late or repeated: never moves a message back
  }
  // Watermark (Messenger/Instagram delivery and read receipts): every outbound message to the contact at or before it.
  if (!job.watermark || !job.recipient) return { applied: 0 };
  const rows = await ctx.db
    .update(m)
    .set({ status: job.status, statusUpdatedAt: at })
    .where(
      and(
        eq(m.channelAccountId, job.channel_account_id),
        eq(m.direction, 'out'),
        inArray(m.status, statusPredecessors(job.status)),
        sql`${m.externalId} is not null`,
        sql`coalesce(${m.providerTimestamp}, ${m.createdAt}) <= ${job.watermark}::timestamptz`,
        sql`${m.conversationId} in (select ${c.id} from ${c} where ${c.contactIdentifier} = ${job.recipient} and ${c.channelAccountId} = ${job.channel_account_id})`,
      ),
    )
    .returning();
  const type = job.status === 'read' ? 'message_read' : job.status === 'delivered' ? 'message_delivered' : null;
  if (type) for (const row of rows) await ctx.bus.publish({ type, tenant: ctx.tenant.slug, data: messageView(row) });
  return { applied: rows.length };
}
