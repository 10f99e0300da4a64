/** Inbox conversations: listing with filters and keyset pagination, and the agent's actions on one. */
import {
  and,
  desc,
  eq,
  gt,
  ilike,
  inArray,
  isNull,
  or,
  QueryBuilder,
  selectJson,
  ShapeCache,
  type SQL,
  type SqlSource,
  sql,
} from '@comms/db';
import type { DomainEvent } from '../platform/bus/index.js';
import type { TenantContext } from '../platform/context.js';
import { writeWithEvents } from '../platform/outbox.js';
import type { Tenant } from '../platform/tenants.js';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.js';
import { decodeCursor, type JsonPage, toJsonPage } from '../platform/pagination.js';
import { type ConversationRow, type ConversationView, conversationView } from './views.js';

export const CONVERSATION_STATUSES = ['new', 'open', 'replied', 'qualified', 'archived'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const PRIORITIES = ['high', 'normal', 'low'] as const;

export interface ConversationFilters {
  status?: ConversationStatus[];
  channel?: string[];
  priority?: string[];
  /** A user id, or `none` for unassigned conversations. */
  assigned_to?: string;
  is_lead?: boolean;
  is_spam?: boolean;
  unread?: boolean;
  q?: string;
  limit: number;
  cursor?: string;
}

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const listShapes = new ShapeCache();
const ph = sql.placeholder;
const placeholders = (name: string, n: number) => Array.from({ length: n }, (_, i) => ph(`${name}${i}`));

/**
 * The list statement for these filters. Its text depends only on which filters are present (and how many
 * values each list has), so it is built once per shape and tenant; `shapes` is where it is kept.
 */
export function conversationListStatement(
  { schemaName, tables }: Pick<Tenant, 'schemaName' | 'tables'>,
  f: ConversationFilters,
  shapes: ShapeCache = listShapes,
): SqlSource {
  const values: Record<string, unknown> = { is_spam: f.is_spam ?? false, limit: f.limit + 1 };
  const lists = { status: f.status ?? [], channel: f.channel ?? [], priority: f.priority ?? [] };
  for (const [name, list] of Object.entries(lists)) {
    for (const [i, v] of list.entries()) values[`${name}${i}`] = v;
  }
  const assigned = f.assigned_to === 'none' ? 'none' : f.assigned_to ? 'user' : '';
  if (assigned === 'user') values.assigned_to = f.assigned_to;
  if (f.is_lead !== undefined) values.is_lead = f.is_lead;
  if (f.q) values.pattern = likePattern(f.q);
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor, ['date', 'int']) as [Date, number];
    values.at = at.toISOString();
    values.id = id;
  }
  const unread = f.unread === undefined ? '' : String(f.unread);
  const key = [
    schemaName,
    lists.status.length,
    lists.channel.length,
    lists.priority.length,
    assigned,
    f.is_lead !== undefined,
    unread,
    Boolean(f.q),
    Boolean(f.cursor),
  ].join('|');
  return shapes.statement(
    key,
    () => {
      const { inboxConversations: c, inboxMessages: m } = tables;
      const where: (SQL | undefined)[] = [];
      const { status, channel, priority } = lists;
      if (status.length === 1) where.push(eq(c.status, ph('status0')));
      else if (status.length) where.push(inArray(c.status, placeholders('status', status.length)));
      if (channel.length) where.push(inArray(c.channel, placeholders('channel', channel.length)));
      if (priority.length) where.push(inArray(c.priority, placeholders('priority', priority.length)));
      if (assigned === 'none') where.push(isNull(c.assignedTo));
      else if (assigned === 'user') where.push(eq(c.assignedTo, ph('assigned_to')));
      if (f.is_lead !== undefined) where.push(eq(c.isLead, ph('is_lead')));
      where.push(eq(c.isSpam, ph('is_spam')));
      if (unread === 'true') where.push(gt(c.unreadCount, 0));
      if (unread === 'false') where.push(eq(c.unreadCount, 0));
      if (f.q) {
        const pattern = ph('pattern');
        where.push(
          or(
            ilike(c.contactName, pattern),
            ilike(c.contactIdentifier, pattern),
            sql`exists (select 1 from ${m} where ${m.conversationId} = ${c.id} and ${m.content} ilike ${pattern})`,
          ),
        );
      }
      // Row comparison matches the (last_message_at desc, id desc) index: a deep page costs what the first does.
      if (f.cursor) where.push(sql`(${c.lastMessageAt}, ${c.id}) < (${ph('at')}::timestamptz, ${ph('id')})`);
      return new QueryBuilder()
        .select()
        .from(c)
        .where(and(...where))
        .orderBy(desc(c.lastMessageAt), desc(c.id))
        .limit(ph('limit'));
    },
    values,
  );
}

/** A page of conversations as JSON text (every column: the same fields as `conversationView`). */
export async function listConversations(ctx: TenantContext, f: ConversationFilters): Promise<JsonPage> {
  const statement = conversationListStatement(ctx.tenant, f);
  return toJsonPage(await selectJson(ctx.db, statement), f.limit, ['last_message_at', 'id']);
}

export async function findConversation(ctx: TenantContext, id: number): Promise<ConversationRow> {
  const { inboxConversations: c } = ctx.tenant.tables;
  const [row] = await ctx.db.select().from(c).where(eq(c.id, id)).limit(1);
  if (!row) throw notFound(`conversation ${id}`);
  return row;
}

export interface CreateConversationInput {
  channel: string;
  contact_identifier: string;
  contact_name?: string | null;
  channel_account_id?: number | null;
  external_id?: string | null;
  priority?: string;
  tags?: string[];
  contact_metadata?: Record<string, unknown>;
  platform_metadata?: Record<string, unknown>;
}

export async function createConversation(
  ctx: TenantContext,
  input: CreateConversationInput,
): Promise<ConversationView> {
  const { inboxConversations: c, channelAccounts: a } = ctx.tenant.tables;
  if (input.channel_account_id != null) {
    const [account] = await ctx.db
      .select({ provider: a.provider })
      .from(a)
      .where(and(eq(a.id, input.channel_account_id), isNull(a.deletedAt)));
    if (!account) throw new AppError('unprocessable', `channel account ${input.channel_account_id} does not exist`);
    if (account.provider !== input.channel)
      throw new AppError(
        'unprocessable',
        `channel account ${input.channel_account_id} is a ${account.provider} account, not ${input.channel}`,
      );
  }
  // The event's outgoing webhooks commit with the conversation (the outbox).
  const { result: row, events } = await writeWithEvents(
    ctx,
    async (db) => {
      const [row] = await db
        .insert(c)
        .values({
          channel: input.channel,
          contactIdentifier: input.contact_identifier,
          contactName: input.contact_name ?? null,
          channelAccountId: input.channel_account_id ?? null,
          externalId: input.external_id ?? null,
          priority: input.priority ?? 'normal',
          tags: input.tags ?? [],
          contactMetadata: input.contact_metadata ?? {},
          platformMetadata: input.platform_metadata ?? {},
        })
        .onConflictDoNothing()
        .returning();
      return row ?? null;
    },
    (row) => (row ? [{ type: 'conversation_created', tenant: ctx.tenant.slug, data: conversationView(row) }] : []),
  );
  if (!row) {
    const [existing] = await ctx.db
      .select({ id: c.id })
      .from(c)
      .where(
        and(
          eq(c.channel, input.channel),
          eq(c.contactIdentifier, input.contact_identifier),
          sql`coalesce(${c.channelAccountId}, 0) = ${input.channel_account_id ?? 0}`,
          sql`${c.status} <> 'archived'`,
        ),
      );
    throw new AppError(
      'conflict',
      `an open conversation with this contact already exists${existing ? ` (id ${existing.id})` : ''}`,
    );
  }
  for (const event of events) await ctx.bus.publish(event);
  return conversationView(row);
}

export interface UpdateConversationInput {
  contact_name?: string | null;
  contact_metadata?: Record<string, unknown>;
  status?: ConversationStatus;
  priority?: string;
  tags?: string[];
  is_spam?: boolean;
  spam_reason?: string | null;
  platform_metadata?: Record<string, unknown>;
}

/** Writes `patch` to the conversation and publishes `type`; a live-contact clash (reopening) is a 409. */
async function patchConversation(
  ctx: TenantContext,
  id: number,
  patch: Partial<ConversationRow>,
  type: 'conversation_updated' | 'conversation_archived' | 'conversation_assigned' | 'conversation_qualified',
): Promise<ConversationView> {
  const { inboxConversations: c } = ctx.tenant.tables;
  let written: { result: ConversationView; events: DomainEvent[] };
  try {
    // The event's outgoing webhooks commit with the change (the outbox).
    written = await writeWithEvents(
      ctx,
      async (db) => {
        const [row] = await db
          .update(c)
          .set({ ...patch, updatedAt: new Date() })
          .where(eq(c.id, id))
          .returning();
        if (!row) throw notFound(`conversation ${id}`);
        return conversationView(row);
      },
      (view) => [{ type, tenant: ctx.tenant.slug, data: view }],
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError('conflict', 'another open conversation with this contact exists; archive it first');
    throw err;
  }
  for (const event of written.events) await ctx.bus.publish(event);
  return written.result;
}

export async function updateConversation(
  ctx: TenantContext,
  id: number,
  input: UpdateConversationInput,
): Promise<ConversationView> {
  const current = await findConversation(ctx, id);
  const patch: Partial<ConversationRow> = {};
  if (input.contact_name !== undefined) patch.contactName = input.contact_name;
  if (input.contact_metadata !== undefined) patch.contactMetadata = input.contact_metadata;
  if (input.priority !== undefined) patch.priority = input.priority;
  if (input.tags !== undefined) patch.tags = input.tags;
  if (input.platform_metadata !== undefined) patch.platformMetadata = input.platform_metadata;
  if (input.is_spam !== undefined) {
    patch.isSpam = input.is_spam;
    patch.spamReason = input.is_spam ? (input.spam_reason ?? 'marked by an agent') : null;
    // Remembered so the content rules do not flag this contact again (a blocked identifier still does).
    patch.platformMetadata = {
      ...(patch.platformMetadata ?? current.platformMetadata),
      spam_cleared_by_agent: !input.is_spam,
    };
  }
  if (input.status !== undefined && input.status !== current.status) {
    patch.status = input.status;
    patch.archivedAt = input.status === 'archived' ? new Date() : null;
  }
  const type = patch.status === 'archived' ? 'conversation_archived' : 'conversation_updated';
  return patchConversation(ctx, id, patch, type);
}

export async function assignConversation(
  ctx: TenantContext,
  id: number,
  userId: string | null,
): Promise<ConversationView> {
  const current = await findConversation(ctx, id);
  const patch: Partial<ConversationRow> = { assignedTo: userId, assignedAt: userId ? new Date() : null };
  // Someone taking a new conversation has opened it.
  if (userId && current.status === 'new') patch.status = 'open';
  return patchConversation(ctx, id, patch, 'conversation_assigned');
}

export async function qualifyConversation(
  ctx: TenantContext,
  id: number,
  input: { lead_id?: string | null; notes?: string | null },
): Promise<ConversationView> {
  const current = await findConversation(ctx, id);
  if (current.status === 'archived') throw new AppError('conflict', `conversation ${id} is archived`);
  return patchConversation(
    ctx,
    id,
    {
      isLead: true,
      leadId: input.lead_id ?? current.leadId,
      qualificationNotes: input.notes ?? current.qualificationNotes,
      qualifiedAt: new Date(),
      qualifiedBy: ctx.actor?.userId ?? null,
      status: 'qualified',
    },
    'conversation_qualified',
  );
}

export async function markConversationRead(ctx: TenantContext, id: number): Promise<ConversationView> {
  await findConversation(ctx, id);
  return patchConversation(ctx, id, { unreadCount: 0 }, 'conversation_updated');
}

/** DELETE archives: nothing is erased. */
export async function archiveConversation(ctx: TenantContext, id: number): Promise<ConversationView> {
  const current = await findConversation(ctx, id);
  if (current.status === 'archived') return conversationView(current);
  return patchConversation(ctx, id, { status: 'archived', archivedAt: new Date() }, 'conversation_archived');
}
