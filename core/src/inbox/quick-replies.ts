/** Quick replies (canned responses): CRUD, filters, and `use`, which renders variables and may send. */
import { and, desc, eq, ilike, lt, or, sql, type SQL } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { AppError, notFound } from '../platform/errors.js';
import { decodeCursor, type Page, toPage } from '../platform/pagination.js';
import { findConversation } from './conversations.js';
import { sendMessage } from './messages.js';
import { type MessageView, type QuickReplyRow, type QuickReplyView, quickReplyView } from './views.js';

export interface QuickReplyInput {
  title: string;
  content: string;
  category?: string | null;
  language?: string;
  shortcuts?: string[];
  is_active?: boolean;
}

export async function createQuickReply(ctx: TenantContext, input: QuickReplyInput): Promise<QuickReplyView> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const [row] = await ctx.db
    .insert(q)
    .values({
      title: input.title,
      content: input.content,
      category: input.category ?? null,
      language: input.language ?? 'en',
      shortcuts: input.shortcuts ?? [],
      isActive: input.is_active ?? true,
      createdBy: ctx.actor?.userId ?? null,
    })
    .returning();
  return quickReplyView(row!);
}

export async function listQuickReplies(
  ctx: TenantContext,
  f: { category?: string; language?: string; is_active?: boolean; q?: string; limit: number; cursor?: string },
): Promise<Page<QuickReplyView>> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const where: (SQL | undefined)[] = [];
  if (f.category) where.push(eq(q.category, f.category));
  if (f.language) where.push(eq(q.language, f.language));
  if (f.is_active !== undefined) where.push(eq(q.isActive, f.is_active));
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(or(ilike(q.title, pattern), ilike(q.content, pattern), sql`${q.shortcuts}::text ilike ${pattern}`));
  }
  if (f.cursor) where.push(lt(q.id, (decodeCursor(f.cursor, ['int']) as [number])[0]));
  const rows = await ctx.db
    .select()
    .from(q)
    .where(and(...where))
    .orderBy(desc(q.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => [r.id], quickReplyView);
}

async function findQuickReply(ctx: TenantContext, id: number): Promise<QuickReplyRow> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const [row] = await ctx.db.select().from(q).where(eq(q.id, id)).limit(1);
  if (!row) throw notFound(`quick reply ${id}`);
  return row;
}

export async function getQuickReply(ctx: TenantContext, id: number): Promise<QuickReplyView> {
  return quickReplyView(await findQuickReply(ctx, id));
}

export async function updateQuickReply(
  ctx: TenantContext,
  id: number,
  input: Partial<QuickReplyInput>,
): Promise<QuickReplyView> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const patch: Partial<QuickReplyRow> = { updatedAt: new Date() };
  if (input.title !== undefined) patch.title = input.title;
  if (input.content !== undefined) patch.content = input.content;
  if (input.category !== undefined) patch.category = input.category;
  if (input.language !== undefined) patch.language = input.language;
  if (input.shortcuts !== undefined) patch.shortcuts = input.shortcuts;
  if (input.is_active !== undefined) patch.isActive = input.is_active;
  const [row] = await ctx.db.update(q).set(patch).where(eq(q.id, id)).returning();
  if (!row) throw notFound(`quick reply ${id}`);
  return quickReplyView(row);
}

export async function deleteQuickReply(ctx: TenantContext, id: number): Promise<void> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const [row] = await ctx.db.delete(q).where(eq(q.id, id)).returning({ id: q.id });
  if (!row) throw notFound(`quick reply ${id}`);
}

const VARIABLE = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/** Replaces `{{name}}` with its value; unknown variables stay as written and are reported. */
export function renderTemplate(
  template: string,
  variables: Record<string, string | null | undefined>,
): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const text = template.replace(VARIABLE, (whole, name: string) => {
    const value = variables[name];
    if (value === undefined || value === null) {
      missing.add(name);
      return whole;
    }
    return value;
  });
  return { text, missing: [...missing] };
}

/** Fills the template from the conversation (contact_name, first_name, …), the agent, and the caller's variables. */
export async function useQuickReply(
  ctx: TenantContext,
  id: number,
  input: { conversation_id?: number | null; variables?: Record<string, string> },
): Promise<{
  quick_reply: QuickReplyView;
  rendered: string;
  missing_variables: string[];
  message: MessageView | null;
}> {
  const { inboxQuickReplies: q } = ctx.tenant.tables;
  const reply = await findQuickReply(ctx, id);
  if (!reply.isActive) throw new AppError('unprocessable', `quick reply ${id} is not active`);
  const vars: Record<string, string | null | undefined> = {};
  if (input.conversation_id != null) {
    const conversation = await findConversation(ctx, input.conversation_id);
    vars.contact_name = conversation.contactName;
    vars.first_name = conversation.contactName?.split(/\s+/)[0];
    vars.contact_identifier = conversation.contactIdentifier;
    vars.channel = conversation.channel;
  }
  vars.tenant_name = ctx.tenant.name;
  Object.assign(vars, input.variables ?? {});
  const { text, missing } = renderTemplate(reply.content, vars);
  let message: MessageView | null = null;
  if (input.conversation_id != null) {
    // Never send a customer a raw `{{placeholder}}`.
    if (missing.length)
      throw new AppError('unprocessable', `the reply needs values for: ${missing.join(', ')}`, {
        errors: missing.map((name) => ({ field: `variables.${name}`, message: 'no value for this variable' })),
      });
    message = await sendMessage(ctx, {
      conversation_id: input.conversation_id,
      type: 'text',
      content: text,
      quick_reply_id: id,
    });
  }
  const [row] = await ctx.db
    .update(q)
    .set({ usageCount: sql`${q.usageCount} + 1`, lastUsedAt: new Date() })
    .where(eq(q.id, id))
    .returning();
  return { quick_reply: quickReplyView(row!), rendered: text, missing_variables: missing, message };
}
