/** What the outbound worker needs around a provider send: load, record sent, record failed. */
import type { Channel, OutboundMessage } from '@comms/adapter-kit';
import { and, type Db, type Executor, eq, isNull, lt, rawRows, rowFromJson, sql, tenantTables } from '@comms/db';
import { batched, perOwner } from '../platform/batch.js';
import type { DomainEvent } from '../platform/bus/index.js';
import type { TenantContext } from '../platform/context.js';
import { hasSubscribers, writeWithEvents } from '../platform/outbox.js';
import { enqueueSend } from './messages.js';
import { withOutboundMedia } from './outbound-media.js';
import { type ChannelAccountRow, conversationView, type MessageRow, messageView } from './views.js';

/**
 * A PostgreSQL array literal, passed as one parameter (and cast in the query), so the planner sees an array it
 * can probe an index with. Elements are quoted and escaped.
 */
function pgArray(values: (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

interface OutboundRow {
  message: MessageRow;
  conversationId: number;
  contactIdentifier: string;
  account: ChannelAccountRow | null;
}

/**
 * The worker's database work, batched per tenant: the jobs running at once load their messages in one
 * query and store their provider ids in one statement (see batch.ts), so the database round trips per send
 * shrink as the load grows.
 */
const outboundStore = perOwner((db: Db, schema: string) => {
  const { inboxMessages, channelAccounts } = tenantTables(schema);
  const s = sql.identifier(schema);
  const load = batched(async (ids: number[]) => {
    const rows = await rawRows<{
      message: Record<string, unknown>;
      conversation_id: number;
      contact_identifier: string;
      account: Record<string, unknown> | null;
    }>(
      db,
      sql`select to_jsonb(m) as message, c.id as conversation_id, c.contact_identifier, to_jsonb(a) as account
            from ${s}.inbox_messages m
            join ${s}.inbox_conversations c on c.id = m.conversation_id
            left join ${s}.channel_accounts a on a.id = m.channel_account_id
           where m.id = any(${pgArray(ids)}::integer[])`,
    );
    return new Map(
      rows.map((r): [number, OutboundRow] => {
        const message = rowFromJson(inboxMessages, r.message);
        return [
          message.id,
          {
            message,
            conversationId: r.conversation_id,
            contactIdentifier: r.contact_identifier,
            account: r.account ? rowFromJson(channelAccounts, r.account) : null,
          },
        ];
      }),
    );
  });
  // key: `${message id} ${provider id}`.
  const markSent = batched(async (keys: string[]) => {
    const pairs = keys.map((k) => {
      const at = k.indexOf(' ');
      return { id: Number(k.slice(0, at)), providerId: k.slice(at + 1) };
    });
    const rows = await markSentRows(db, schema, pairs);
    return new Map(rows.map((row): [string, MessageRow] => [`${row.id} ${row.externalId}`, row]));
  });
  return { load, markSent };
});

/** Stores provider ids and moves the messages pending → sent; a message already holding a provider id is left alone. */
async function markSentRows(
  db: Executor,
  schema: string,
  pairs: { id: number; providerId: string }[],
): Promise<MessageRow[]> {
  const { inboxMessages } = tenantTables(schema);
  const rows = await rawRows<{ row: Record<string, unknown> }>(
    db,
    sql`update ${sql.identifier(schema)}.inbox_messages m
           set external_id = v.pid,
               -- A status event may already have moved it on (it retried until this id existed): keep that.
               status = case when m.status = 'pending' then 'sent' else m.status end,
               status_updated_at = now(), provider_timestamp = now(), error = null
          from unnest(${pgArray(pairs.map((p) => p.id))}::integer[], ${pgArray(pairs.map((p) => p.providerId))}::text[]) as v(id, pid)
         where m.id = v.id and m.external_id is null
     returning to_jsonb(m.*) as row`,
  );
  return rows.map((r) => rowFromJson(inboxMessages, r.row));
}

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
  const { inboxMessages: m } = ctx.tenant.tables;
  const row = await outboundStore(ctx.db, ctx.tenant.schemaName).load(messageId);
  if (!row) return { kind: 'skip', reason: 'message not found' };
  const { message, account } = row;
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
      .where(and(eq(m.conversationId, row.conversationId), eq(m.direction, 'in')))
      .orderBy(sql`${m.id} desc`)
      .limit(1);
    const em = (last?.metadata ?? {}) as { subject?: string | null; message_id?: string | null; references?: string[] };
    subject = em.subject ? (/^re:/i.test(em.subject) ? em.subject : `Re: ${em.subject}`) : null;
    inReplyTo = em.message_id ?? null;
    references = [...(em.references ?? []), ...(em.message_id ? [em.message_id] : [])];
  }
  const outbound: OutboundMessage = {
    message_id: message.id,
    tenant: ctx.tenant.slug,
    to: row.contactIdentifier,
    from: account.identifier,
    type: message.type as OutboundMessage['type'],
    text: message.content,
    media_url: message.mediaUrl,
    template: meta.template ? { components: [], ...meta.template } : null,
    subject,
    in_reply_to: inReplyTo,
    references,
    status_callback_url: options.statusCallbackUrl?.(channel) ?? null,
  };
  // An agent's file: a signed link for the providers that fetch it, the bytes for email.
  return {
    kind: 'send',
    channel,
    account,
    message: await withOutboundMedia(ctx, channel, message.attachments, outbound),
  };
}

/** The provider accepted the message: store its id and move pending → sent. */
export async function recordSent(ctx: TenantContext, messageId: number, providerMessageId: string): Promise<void> {
  const sent = (row: MessageRow): DomainEvent => ({
    type: 'message_sent',
    tenant: ctx.tenant.slug,
    data: messageView(row),
  });
  // A tenant with outgoing webhooks: the event's deliveries commit with the change (the outbox), one message per
  // transaction; the others share one statement with the sends finishing at the same time.
  if (await hasSubscribers(ctx.db, ctx.tenant)) {
    const { events } = await writeWithEvents(
      ctx,
      (db) => markSentRows(db, ctx.tenant.schemaName, [{ id: messageId, providerId: providerMessageId }]),
      (rows) => rows.map(sent),
    );
    for (const event of events) void ctx.bus.publish(event);
    return;
  }
  const row = await outboundStore(ctx.db, ctx.tenant.schemaName).markSent(`${messageId} ${providerMessageId}`);
  // Not awaited: the row is durable; the bus keeps the order and retries on its own.
  if (row) void ctx.bus.publish(sent(row));
}

/** A permanent error, or the last attempt: the message is failed with the provider's code and message. */
export async function recordFailed(
  ctx: TenantContext,
  messageId: number,
  error: { code: string; message: string },
): Promise<void> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  // The events' outgoing webhooks commit with the change (the outbox).
  const { events } = await writeWithEvents(
    ctx,
    async (db) => {
      const [row] = await db
        .update(m)
        .set({ status: 'failed', error, statusUpdatedAt: new Date() })
        .where(and(eq(m.id, messageId), eq(m.status, 'pending')))
        .returning();
      if (!row) return null;
      const [conversation] = await db.select().from(c).where(eq(c.id, row.conversationId));
      return { row, conversation };
    },
    (written) => {
      if (!written) return [];
      const events: DomainEvent[] = [
        { type: 'message_failed', tenant: ctx.tenant.slug, data: messageView(written.row) },
      ];
      if (written.conversation)
        events.push({
          type: 'conversation_updated',
          tenant: ctx.tenant.slug,
          data: conversationView(written.conversation),
        });
      return events;
    },
  );
  for (const event of events) await ctx.bus.publish(event);
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
