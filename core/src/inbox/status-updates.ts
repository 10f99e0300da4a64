/** The status-update job: a provider's delivery status applied to our outbound message, forward only. */
import { and, eq, inArray, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { writeWithEvents } from '../platform/outbox.js';
import type { StatusUpdateJob } from '../platform/queue/definitions.js';
import { applyMessageStatus } from './messages.js';
import { statusPredecessors } from './status.js';
import { conversationView, messageView } from './views.js';

/** Thrown while the message the status is about has no provider id yet; the job retries. */
export class StatusTargetMissing extends Error {
  override name = 'StatusTargetMissing';
}

export async function applyStatusUpdate(ctx: TenantContext, job: StatusUpdateJob): Promise<{ applied: number }> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  const at = new Date(job.at);
  if (job.note && job.external_id) return applyStatusNote(ctx, job, at);
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
  const type = job.status === 'read' ? 'message_read' : job.status === 'delivered' ? 'message_delivered' : null;
  // The events' outgoing webhooks commit with the change (the outbox).
  const { result: rows, events } = await writeWithEvents(
    ctx,
    (db) =>
      db
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
        .returning(),
    (rows) => (type ? rows.map((row) => ({ type, tenant: ctx.tenant.slug, data: messageView(row) })) : []),
  );
  for (const event of events) await ctx.bus.publish(event);
  return { applied: rows.length };
}

/**
 * Feedback that moves no status (an SES complaint, transient bounce or delivery delay): appended to the message's
 * `metadata.delivery_notes`; a complaint also flags the conversation (`platform_metadata.complaint`), so agents see
 * that the customer reported the mail. Retried like a status while the message has no provider id yet.
 */
async function applyStatusNote(ctx: TenantContext, job: StatusUpdateJob, at: Date): Promise<{ applied: number }> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  const note = { kind: job.note!.kind, detail: job.note!.detail, at: at.toISOString() };
  const { events } = await writeWithEvents(
    ctx,
    async (db) => {
      const [row] = await db
        .update(m)
        .set({
          metadata: sql`jsonb_set(${m.metadata}, '{delivery_notes}', coalesce(${m.metadata}->'delivery_notes', '[]'::jsonb) || ${JSON.stringify([note])}::jsonb)`,
        })
        .where(and(eq(m.channelAccountId, job.channel_account_id), eq(m.externalId, job.external_id!)))
        .returning();
      if (!row) throw new StatusTargetMissing(`no message with provider id ${job.external_id} yet`);
      if (note.kind !== 'complaint') return { row, conversation: null };
      const complaint = { message_id: row.id, detail: note.detail, at: note.at };
      const [conversation] = await db
        .update(c)
        .set({
          platformMetadata: sql`${c.platformMetadata} || jsonb_build_object('complaint', ${JSON.stringify(complaint)}::jsonb)`,
          updatedAt: new Date(),
        })
        .where(eq(c.id, row.conversationId))
        .returning();
      return { row, conversation: conversation ?? null };
    },
    ({ conversation }) =>
      conversation
        ? [{ type: 'conversation_updated', tenant: ctx.tenant.slug, data: conversationView(conversation) }]
        : [],
  );
  for (const event of events) await ctx.bus.publish(event);
  return { applied: 1 };
}
