/** Inbox messages: the agent's outbound replies, the list per conversation, and status changes. */
import type { Channel, DeliveryStatus, MessageType } from '@comms/adapter-kit';
import {
  and,
  asc,
  desc,
  eq,
  gt,
  inArray,
  lt,
  QueryBuilder,
  ShapeCache,
  type SqlSource,
  selectJson,
  sql,
} from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import type { Tenant } from '../platform/tenants.js';
import { AppError, notFound } from '../platform/errors.js';
import { decodeCursor, type JsonPage, toJsonPage } from '../platform/pagination.js';
import { findMedia } from '../platform/media/service.js';
import { writeWithEvents } from '../platform/outbox.js';
import { findConversation } from './conversations.js';
import { checkProviderAccepts, messageTypeOf, outboundAttachment } from './outbound-media.js';
import { canMoveStatus, statusPredecessors } from './status.js';
import { conversationView, type MessageRow, type MessageView, messageView } from './views.js';

/** Meta's customer-service window: free-form replies only within 24 h of the customer's last message. */
export const REPLY_WINDOW_MS = 24 * 60 * 60 * 1000;
const WINDOWED_CHANNELS = new Set(['whatsapp', 'messenger', 'instagram', 'twilio_whatsapp']);

export interface SendMessageInput {
  conversation_id: number;
  type: MessageType;
  content?: string | null;
  media_url?: string | null;
  /** A file of the tenant's media store (an agent's upload): sent the way the conversation's provider takes files. */
  media_id?: number | null;
  quick_reply_id?: number | null;
  /** WhatsApp template, for replies outside the 24-hour window. */
  template?: { name: string; language: string; components?: unknown[] } | null;
}

/**
 * Stores an outbound message as `pending` and hands it to the outbound queue. If the queue
 * is unreachable the message is still stored: the sweeper enqueues it later, so no accepted
 * reply is lost.
 */
export async function sendMessage(ctx: TenantContext, input: SendMessageInput): Promise<MessageView> {
  const { inboxMessages: m, inboxConversations: c } = ctx.tenant.tables;
  if (input.type === 'text' && !input.content?.trim() && !input.template && !input.media_id)
    throw new AppError('unprocessable', 'a text message needs content', {
      errors: [{ field: 'content', message: 'required for type text' }],
    });
  const conversation = await findConversation(ctx, input.conversation_id);
  const file = input.media_id ? await findMedia(ctx, input.media_id) : null;
  if (input.media_id && !file)
    throw new AppError('unprocessable', `media ${input.media_id} not found: upload the file first (POST .../media)`, {
      errors: [{ field: 'media_id', message: 'no such media' }],
    });
  if (file) {
    checkProviderAccepts(conversation.channel as Channel, file);
  }
  // A file makes the message its kind, unless the agent named one.
  const type = file && input.type === 'text' ? messageTypeOf(file.mimeType) : input.type;
  if (type !== 'text' && type !== 'location' && !input.media_url && !file)
    throw new AppError('unprocessable', `a ${type} message needs media_url or media_id`, {
      errors: [{ field: 'media_url', message: `required for type ${type}` }],
    });
  if (WINDOWED_CHANNELS.has(conversation.channel) && !input.template) {
    const last = conversation.lastInboundAt;
    if (!last || Date.now() - last.getTime() > REPLY_WINDOW_MS) {
      throw new AppError(
        'unprocessable',
        conversation.channel === 'whatsapp'
          ? 'the 24-hour customer service window is closed: the customer last wrote more than 24 hours ago (or never), so only a template message can be sent'
          : `the 24-hour messaging window of ${conversation.channel} is closed: the customer last wrote more than 24 hours ago (or never)`,
      );
    }
  }
  if (input.template && conversation.channel !== 'whatsapp')
    throw new AppError('unprocessable', 'templates are only sent on WhatsApp', {
      errors: [{ field: 'template', message: 'only for whatsapp conversations' }],
    });

  const now = new Date();
  const preview = input.content ?? (input.template ? `[template ${input.template.name}]` : `[${type}]`);
  const written = await writeWithEvents(
    ctx,
    (db) =>
      db.transaction(async (tx) => {
        const [message] = await tx
          .insert(m)
          .values({
            conversationId: conversation.id,
            channelAccountId: conversation.channelAccountId,
            direction: 'out',
            type,
            content: input.content ?? null,
            mediaUrl: input.media_url ?? null,
            status: 'pending',
            statusUpdatedAt: now,
            sentBy: ctx.actor?.userId ?? null,
            quickReplyId: input.quick_reply_id ?? null,
            attachments: file ? [outboundAttachment(ctx.tenant.slug, file)] : [],
            metadata: input.template ? { template: { components: [], ...input.template } } : {},
          })
          .returning();
        // An agent's reply: the conversation is `replied` (reopened if it was archived) and read.
        const [conversationRow] = await tx
          .update(c)
          .set({
            status: 'replied',
            archivedAt: null,
            lastMessage: preview,
            lastMessageAt: now,
            messageCount: sql`${c.messageCount} + 1`,
            unreadCount: 0,
            updatedAt: now,
          })
          .where(eq(c.id, conversation.id))
          .returning();
        return { message: message!, conversationRow: conversationRow! };
      }),
    ({ conversationRow }) => [
      { type: 'conversation_updated', tenant: ctx.tenant.slug, data: conversationView(conversationRow) },
    ],
  );
  const { message } = written.result;
  await enqueueSend(ctx, message.id);
  for (const event of written.events) await ctx.bus.publish(event);
  return messageView(message);
}

/** Hands a message to the outbound queue; a queue outage is logged and left to the sweeper. */
export async function enqueueSend(ctx: TenantContext, messageId: number): Promise<boolean> {
  try {
    await ctx.queues.add('outbound-send', { tenant: ctx.tenant.slug, message_id: messageId });
    return true;
  } catch (err) {
    ctx.log.warn({ message_id: messageId, err: String(err) }, 'outbound queue unavailable; the sweeper will enqueue');
    return false;
  }
}

const listShapes = new ShapeCache();

export interface MessageListOptions {
  limit: number;
  cursor?: string;
  order: 'asc' | 'desc';
}

/** One page of a conversation's messages; built once per order, cursor presence and tenant (see ShapeCache). */
export function messageListStatement(
  { schemaName, tables }: Pick<Tenant, 'schemaName' | 'tables'>,
  conversationId: number,
  { limit, cursor, order }: MessageListOptions,
  shapes: ShapeCache = listShapes,
): SqlSource {
  const values: Record<string, unknown> = { conversation_id: conversationId, limit: limit + 1 };
  if (cursor) [values.id] = decodeCursor(cursor, ['int']);
  return shapes.statement(
    `${schemaName}|${order}|${Boolean(cursor)}`,
    () => {
      const { inboxMessages: m } = tables;
      const where = [eq(m.conversationId, sql.placeholder('conversation_id'))];
      if (cursor) where.push((order === 'desc' ? lt : gt)(m.id, sql.placeholder('id')));
      return new QueryBuilder()
        .select()
        .from(m)
        .where(and(...where))
        .orderBy(order === 'desc' ? desc(m.id) : asc(m.id))
        .limit(sql.placeholder('limit'));
    },
    values,
  );
}

export async function listMessages(
  ctx: TenantContext,
  conversationId: number,
  options: MessageListOptions,
): Promise<JsonPage> {
  const statement = messageListStatement(ctx.tenant, conversationId, options);
  const rows = await selectJson(ctx.db, statement);
  // Only an empty page needs to tell "no messages" from "no conversation": one query on the hot path.
  if (rows.rows.length === 0) await findConversation(ctx, conversationId);
  return toJsonPage(rows, options.limit, ['id']);
}

export async function findMessage(ctx: TenantContext, id: number): Promise<MessageRow> {
  const { inboxMessages: m } = ctx.tenant.tables;
  const [row] = await ctx.db.select().from(m).where(eq(m.id, id)).limit(1);
  if (!row) throw notFound(`message ${id}`);
  return row;
}

const STATUS_EVENT = {
  sent: 'message_sent',
  delivered: 'message_delivered',
  read: 'message_read',
  failed: 'message_failed',
} as const;

/**
 * Moves a message's status forward, never back. Returns the updated row, or null when the
 * move is not forward (a late or repeated event): the caller decides whether that is an error.
 */
export async function applyMessageStatus(
  ctx: TenantContext,
  where: { id: number } | { channelAccountId: number | null; externalId: string },
  status: Exclude<DeliveryStatus, 'pending'>,
  extra: { error?: { code: string; message: string } | null; at?: Date } = {},
): Promise<MessageRow | null> {
  const { inboxMessages: m } = ctx.tenant.tables;
  const match =
    'id' in where
      ? eq(m.id, where.id)
      : and(
          sql`${m.channelAccountId} is not distinct from ${where.channelAccountId}`,
          eq(m.externalId, where.externalId),
        );
  // The event's outgoing webhooks commit with the change (the outbox).
  const { result: row, events } = await writeWithEvents(
    ctx,
    async (db) => {
      const [row] = await db
        .update(m)
        .set({
          status,
          statusUpdatedAt: extra.at ?? new Date(),
          ...(status === 'failed' ? { error: extra.error ?? { code: 'unknown', message: 'failed' } } : {}),
        })
        .where(and(match, inArray(m.status, statusPredecessors(status))))
        .returning();
      return row ?? null;
    },
    (row) => (row ? [{ type: STATUS_EVENT[status], tenant: ctx.tenant.slug, data: messageView(row) }] : []),
  );
  for (const event of events) await ctx.bus.publish(event);
  return row;
}

/** `PUT /messages/{id}/status`: forward moves apply, the same status is a no-op, a backward one is a 409. */
export async function updateMessageStatus(
  ctx: TenantContext,
  id: number,
  status: Exclude<DeliveryStatus, 'pending'>,
  error?: { code: string; message: string } | null,
): Promise<MessageView> {
  const current = await findMessage(ctx, id);
  if (current.status === status) return messageView(current);
  if (!canMoveStatus(current.status as DeliveryStatus, status))
    throw new AppError('conflict', `status cannot move from ${current.status} to ${status}: it only moves forward`);
  const row = await applyMessageStatus(ctx, { id }, status, { error: error ?? null });
  // Lost a race with another update: report what the message now is.
  return messageView(row ?? (await findMessage(ctx, id)));
}

/** `POST /messages/{id}/retry`: a failed outbound message goes back to pending and into the queue. */
export async function retryMessage(ctx: TenantContext, id: number): Promise<MessageView> {
  const { inboxMessages: m } = ctx.tenant.tables;
  const current = await findMessage(ctx, id);
  if (current.direction !== 'out') throw new AppError('conflict', `message ${id} is inbound; only replies are sent`);
  if (current.status !== 'failed')
    throw new AppError('conflict', `message ${id} is ${current.status}; only a failed message can be retried`);
  const [row] = await ctx.db
    .update(m)
    .set({ status: 'pending', statusUpdatedAt: new Date(), error: null })
    .where(and(eq(m.id, id), eq(m.status, 'failed')))
    .returning();
  if (!row) throw new AppError('conflict', `message ${id} changed while retrying it`);
  await enqueueSend(ctx, id);
  return messageView(row);
}
