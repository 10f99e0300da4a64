/** What the outbound worker needs around a provider send: load, record sent, record failed. */
import type { Channel, OutboundMessage } from '@comms/adapter-kit';
import { and, eq, isNull, lt, sql } from '@comms/db';
import type { TenantContext } from '../context.js';
import { enqueueSend } from './messages.js';
import { type ChannelAccountRow, conversationView, messageView } from './views.js';

export type OutboundWork =
  | { kind: 'send'; channel: Channel; account: ChannelAccountRow; message: OutboundMessage }
  | { kind: 'skip'; reason: string };

/**
 * The send a job stands for, or why there is none: a message that already has a provider id
 * (a duplicate job, or a retry after the send succeeded) is never sent twice.
 */
export async function prepareOutbound(
  ctx: TenantContext,
  messageId: number,
  options: { statusCallbackUrl?: (channel: Channel) => string | null } = {},
): Promise<OutboundWork> {
  const { inboxMessages: m, inboxConversations: c, channelAccounts: a } = ctx.tenant.tables;
  const [row] = await ctx.db
    .select({ message: m, conversation: c, account: a })
    .from(m)
    .innerJoin(c, eq(c.id, m.conversationId))
    .leftJoin(a, eq(a.id, m.channelAccountId))
    .where(eq(m.id, messageId))
    .limit(1);
  if (!row) return { kind: 'skip', reason: 'message not found' };
  const { message, conversation, account } = row;
  if (message.direction !== 'out') return { kind: 'skip', reason: 'not an outbound message' };
  if (message.externalId) return { kind: 'skip', reason: 'already sent' };
  if (message.status !== 'pending') return { kind: 'skip', reason: `message is ${message.status}` };
  if (!account || account.deletedAt) return { kind: 'skip', reason: 'no channel account' };
  const channel = account.provider as Channel;
  const meta = message.metadata as { template?: { name: string; language: string; components?: unknown[] } };
  let subject: string | null = null;
  let inReplyTo: string | null = null;
  let references: string[] = [];
  if (channel === 'email') {
    // Reply in the customer's thread: their last message's Message-ID and its references.
    const [last] = await ctx.db
      .select({ metadata: m.metadata })
      .from(m)
      .where(and(eq(m.conversationId, conversation.id), eq(m.direction, 'in')))
      .orderBy(sql`${m.id} desc`)
      .limit(1);
    const em = (last?.metadata ?? {}) as { subject?: string | null; message_id?: string | null; references?: string[] };
    subject = em.subject ? (/^re:/i.test(em.subject) ? em.subject : `Re: ${em.subject}`) : null;
    inReplyTo = em.message_id ?? null;
    references = [...(em.references ?? []), ...(em.message_id ? [em.message_id] : [])];
  }
  return {
    kind: 'send',
    channel,
    account,
    message: {
      message_id: message.id,
      tenant: ctx.tenant.slug,
      to: conversation.contactIdentifier,
      from: account.identifier,
      type: message.type as OutboundMessage['type'],
      text: message.content,
      media_url: message.mediaUrl,
      template: meta.template ? { components: [], ...meta.template } : null,
      subject,
      in_reply_to: inReplyTo,
      references,
      status_callback_url: options.statusCallbackUrl?.(channel) ?? null,
    },
  };
}

/** The provider accepted the message: store its id and move pending → sent. */
export async function recordSent(ctx: TenantContext, messageId: number, providerMessageId: string): Promise<void> {
  const { inboxMessages: m } = ctx.tenant.tables;
  const [row] = await ctx.db
    .update(m)
    .set({
      externalId: providerMessageId,
      // A status event may already have moved it on (it retried until this id existed): keep the later one.
      status: sql`case when ${m.status} = 'pending' then 'sent' else ${m.status} end`,
      statusUpdatedAt: new Date(),
      providerTimestamp: new Date(),
      error: null,
    })
    .where(and(eq(m.id, messageId), isNull(m.externalId)))
    .returning();
  if (row) await ctx.bus.publish({ type: 'message_sent', tenant: ctx.tenant.slug, data: messageView(row) });
}

/** A permanent error, or the last attempt: the message is failed with the provider's code and message. */
export async function recordFailed(
  ctx: TenantContext,
  messageId: number,
  error: { code: string; message: string },
): Promise<void> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  const [row] = await ctx.db
    .update(m)
    .set({ status: 'failed', error, statusUpdatedAt: new Date() })
    .where(and(eq(m.id, messageId), eq(m.status, 'pending')))
    .returning();
  if (!row) return;
  await ctx.bus.publish({ type: 'message_failed', tenant: ctx.tenant.slug, data: messageView(row) });
  const [conversation] = await ctx.db.select().from(c).where(eq(c.id, row.conversationId));
  if (conversation)
    await ctx.bus.publish({
      type: 'conversation_updated',
      tenant: ctx.tenant.slug,
      data: conversationView(conversation),
    });
}

/**
 * Re-enqueues replies left `pending` longer than `olderThanMs` (the queue was away when they were
 * accepted, or a job was lost). Job ids dedupe, so a message already queued is not queued twice.
 */
export async function sweepPendingMessages(ctx: TenantContext, olderThanMs: number, limit = 500): Promise<number> {
  const { inboxMessages: m } = ctx.tenant.tables;
  const rows = await ctx.db
    .select({ id: m.id })
    .from(m)
    .where(
      and(
        eq(m.status, 'pending'),
        eq(m.direction, 'out'),
        isNull(m.externalId),
        lt(m.createdAt, new Date(Date.now() - olderThanMs)),
      ),
    )
    .orderBy(m.createdAt)
    .limit(limit);
  let queued = 0;
  for (const { id } of rows) if (await enqueueSend(ctx, id)) queued += 1;
  return queued;
}
