/**
 * Provider webhooks into conversations and messages (DESIGN §8). One transaction per webhook:
 * the receipt, the conversation upserts, the message inserts that ignore duplicates, the counters.
 * Status events go to the status-update queue once the receipt is durable.
 */
import { createHash } from 'node:crypto';
import type { InboundMessage, NormalizedEvent, StatusEvent } from '@comms/adapter-kit';
import { rawRows, type Tx } from '@comms/db';
import { and, eq, inArray, or, sql } from '@comms/db';
import type { TenantContext } from '../context.js';
import type { DomainEvent } from '../bus/index.js';
import type { StatusUpdateJob } from '../queue/definitions.js';
import { detectSpam, spamRulesOf } from './spam.js';
import { type ChannelAccountRow, type ConversationRow, conversationView, messageView } from './views.js';

export interface WebhookReceipt {
  provider: string;
  /** The raw body, stored for audit and replay. */
  payload: string;
  contentType: string | null;
}

export interface IngestResult {
  /** The receipt had been processed before: nothing was written again. */
  duplicateWebhook: boolean;
  messagesStored: number;
  messagesDuplicate: number;
  statusesQueued: number;
  conversationsCreated: number;
}

export function dedupeKeyOf(payload: string): string {
  return createHash('sha256').update(payload).digest('hex');
}

function previewOf(m: InboundMessage): string {
  if (m.text) return m.text.slice(0, 500);
  if (m.email?.subject) return m.email.subject.slice(0, 500);
  if (m.location) return `[location${m.location.name ? `: ${m.location.name}` : ''}]`;
  return `[${m.type}]`;
}

/** Stores every message and queues every status of one verified webhook. Idempotent. */
export async function ingestWebhook(
  ctx: TenantContext,
  account: ChannelAccountRow,
  receipt: WebhookReceipt,
  events: NormalizedEvent[],
): Promise<IngestResult> {
  const { webhookEvents: w } = ctx.tenant.tables;
  // Per account: one batch may carry events of several accounts, each stored under its own receipt.
  const dedupeKey = `${account.id}:${dedupeKeyOf(receipt.payload)}`;
  const published: DomainEvent[] = [];
  // Without statuses nothing is left for the queue: the receipt is processed when it commits.
  const hasStatuses = events.some((e) => e.kind === 'status');
  const result = await ctx.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(w)
      .values({
        provider: receipt.provider,
        channelAccountId: account.id,
        dedupeKey,
        payload: receipt.payload,
        contentType: receipt.contentType,
        processedAt: hasStatuses ? null : new Date(),
      })
      .onConflictDoNothing()
      .returning({ id: w.id });
    let webhookId = inserted?.id;
    if (!webhookId) {
      const [existing] = await tx
        .select({ id: w.id, processedAt: w.processedAt })
        .from(w)
        .where(and(eq(w.provider, receipt.provider), eq(w.dedupeKey, dedupeKey)));
      // Processed before: a provider's redelivery. Not processed: our earlier attempt failed after
      // the commit (the queue was away); go through it again, every write below is idempotent.
      if (existing?.processedAt)
        return { duplicate: true as const, webhookId: existing.id, stored: 0, dup: 0, created: 0 };
      webhookId = existing!.id;
    }
    let stored = 0;
    let dup = 0;
    let created = 0;
    for (const event of events) {
      if (event.kind !== 'message') continue;
      const r = await storeInboundMessage(ctx, tx, account, event, published);
      if (r.stored) stored += 1;
      else dup += 1;
      if (r.created) created += 1;
    }
    return { duplicate: false as const, webhookId, stored, dup, created };
  });

  if (result.duplicate)
    return {
      duplicateWebhook: true,
      messagesStored: 0,
      messagesDuplicate: 0,
      statusesQueued: 0,
      conversationsCreated: 0,
    };

  // Throws while the queue is away: the gateway answers 503, the provider redelivers, and the
  // unprocessed receipt is worked through again.
  const statuses = events.filter((e): e is StatusEvent => e.kind === 'status');
  if (hasStatuses) {
    for (const status of statuses)
      await ctx.queues.add('status-update', statusJobOf(ctx.tenant.slug, account.id, status));
    await ctx.db.update(w).set({ processedAt: new Date() }).where(eq(w.id, result.webhookId));
  }

  for (const event of published) await ctx.bus.publish(event);
  return {
    duplicateWebhook: false,
    messagesStored: result.stored,
    messagesDuplicate: result.dup,
    statusesQueued: statuses.length,
    conversationsCreated: result.created,
  };
}

export function statusJobOf(tenant: string, accountId: number, s: StatusEvent): StatusUpdateJob {
  return {
    tenant,
    channel_account_id: accountId,
    external_id: s.external_id,
    watermark: s.watermark ? s.watermark.toISOString() : null,
    recipient: s.recipient_identifier,
    status: s.status,
    at: s.timestamp.toISOString(),
    error: s.error,
  };
}

/** The conversation an email answers, by In-Reply-To / References matching a stored Message-ID. */
async function findEmailThread(
  tx: Tx,
  ctx: TenantContext,
  account: ChannelAccountRow,
  m: InboundMessage,
): Promise<number | null> {
  const refs = [m.email?.in_reply_to, ...(m.email?.references ?? [])].filter((r): r is string => Boolean(r));
  if (!refs.length) return null;
  const { inboxMessages: msg } = ctx.tenant.tables;
  const [row] = await tx
    .select({ conversationId: msg.conversationId })
    .from(msg)
    .where(
      and(
        eq(msg.channelAccountId, account.id),
        or(inArray(msg.externalId, refs), inArray(sql`${msg.metadata}->>'message_id'`, refs)),
      ),
    )
    .orderBy(sql`${msg.id} desc`)
    .limit(1);
  return row?.conversationId ?? null;
}

/** What the message needs of its conversation before the counters are bumped. */
interface ConversationRef {
  id: number;
  created: boolean;
  isSpam: boolean;
  clearedByAgent: boolean;
}

const refOf = (row: ConversationRow, created = false): ConversationRef => ({
  id: row.id,
  created,
  isSpam: row.isSpam,
  clearedByAgent: row.platformMetadata?.spam_cleared_by_agent === true,
});

/** The contact's conversation: the one the email answers, the live one, a reopened archived one, or a new one. */
async function conversationFor(
  ctx: TenantContext,
  tx: Tx,
  account: ChannelAccountRow,
  m: InboundMessage,
): Promise<ConversationRef> {
  const { inboxConversations: c } = ctx.tenant.tables;
  const channel = account.provider;
  const sender = m.sender_identifier;
  const threadId = channel === 'email' ? await findEmailThread(tx, ctx, account, m) : null;
  if (threadId) {
    const [thread] = await tx.select().from(c).where(eq(c.id, threadId));
    if (thread && thread.status !== 'archived') return refOf(thread);
    const reopened = thread ? await reopen(tx, ctx, thread.id) : undefined;
    if (reopened) return refOf(reopened);
  }
  // One look-up finds the live conversation, or else the latest archived one, which is reopened rather than replaced.
  const [known] = await tx
    .select()
    .from(c)
    .where(and(eq(c.channelAccountId, account.id), eq(c.channel, channel), eq(c.contactIdentifier, sender)))
    .orderBy(sql`(${c.status} <> 'archived') desc`, sql`${c.lastMessageAt} desc`)
    .limit(1);
  if (known && known.status !== 'archived') return refOf(known);
  const reopened = known ? await reopen(tx, ctx, known.id) : undefined;
  if (reopened) return refOf(reopened);
  // Racing webhooks for a new contact meet at the partial unique index: one inserts, the others update.
  const [row] = await rawRows<{ id: number; inserted: boolean; is_spam: boolean; cleared: boolean | null }>(
    tx,
    sql`insert into ${c} (channel, channel_account_id, contact_identifier, contact_name, status, last_message_at)
        values (${channel}, ${account.id}, ${sender}, ${m.sender_name}, 'new', ${m.timestamp.toISOString()}::timestamptz)
        on conflict (coalesce(channel_account_id, 0), channel, contact_identifier) where status <> 'archived'
        do update set contact_name = coalesce(excluded.contact_name, ${c}.contact_name)
        returning id, (xmax = 0) as inserted, is_spam, (platform_metadata->>'spam_cleared_by_agent')::boolean as cleared`,
  );
  return { id: row!.id, created: row!.inserted, isSpam: row!.is_spam, clearedByAgent: row!.cleared === true };
}

async function storeInboundMessage(
  ctx: TenantContext,
  tx: Tx,
  account: ChannelAccountRow,
  m: InboundMessage,
  published: DomainEvent[],
): Promise<{ stored: boolean; created: boolean }> {
  const { inboxConversations: c, inboxMessages: msg } = ctx.tenant.tables;
  const conv = await conversationFor(ctx, tx, account, m);
  const inserted = await tx
    .insert(msg)
    .values({
      conversationId: conv.id,
      channelAccountId: account.id,
      externalId: m.external_id,
      direction: 'in',
      type: m.type,
      content: m.text,
      mediaUrl: m.media[0]?.url ?? null,
      status: 'delivered',
      statusUpdatedAt: new Date(),
      attachments: m.media.map((x) => ({ ...x })),
      metadata: {
        ...(m.email
          ? {
              subject: m.email.subject,
              message_id: m.email.message_id,
              in_reply_to: m.email.in_reply_to,
              references: m.email.references,
              from: m.email.from,
              to: m.email.to,
              cc: m.email.cc,
              html: m.email.html,
              headers: m.email.headers,
            }
          : {}),
        ...(m.location ? { location: m.location } : {}),
        ...(m.reply_to_external_id ? { reply_to_external_id: m.reply_to_external_id } : {}),
        ...(Object.keys(m.extra).length ? { extra: m.extra } : {}),
      },
      providerTimestamp: m.timestamp,
    })
    // The same message in another envelope (a provider retry): stored once.
    .onConflictDoNothing()
    .returning();
  const message = inserted[0];
  if (!message) return { stored: false, created: conv.created };

  // Spam: the rules see this contact's traffic of the last minute.
  const rules = spamRulesOf(ctx.tenant.settings);
  let spamReason: string | null = null;
  if (!conv.isSpam) {
    let recentCount = 0;
    if (!conv.created && rules.max_messages_per_minute > 0) {
      const [recent] = await rawRows<{ n: number }>(
        tx,
        sql`select count(*)::int as n from ${msg}
            where conversation_id = ${conv.id} and direction = 'in' and id <> ${message.id} and created_at > now() - interval '1 minute'`,
      );
      recentCount = recent?.n ?? 0;
    }
    const reason = detectSpam(rules, {
      sender: m.sender_identifier,
      text: m.text,
      firstContact: conv.created,
      recentCount,
    });
    // An agent's "not spam" stands against the content rules; a blocked identifier always wins.
    if (reason && (!conv.clearedByAgent || reason === 'blocked identifier')) spamReason = reason;
  }

  const preview = previewOf(m);
  const [updated] = await tx
    .update(c)
    .set({
      messageCount: sql`${c.messageCount} + 1`,
      unreadCount: sql`${c.unreadCount} + 1`,
      firstMessage: sql`coalesce(${c.firstMessage}, ${preview})`,
      lastMessage: preview,
      lastMessageAt: sql`greatest(${c.lastMessageAt}, ${m.timestamp.toISOString()}::timestamptz, now())`,
      lastInboundAt: sql`greatest(${c.lastInboundAt}, ${m.timestamp.toISOString()}::timestamptz)`,
      contactName: sql`coalesce(${c.contactName}, ${m.sender_name})`,
      updatedAt: new Date(),
      ...(spamReason ? { isSpam: true, spamReason } : {}),
    })
    .where(eq(c.id, conv.id))
    .returning();

  const view = conversationView(updated!);
  published.push({
    type: conv.created ? 'conversation_created' : 'conversation_updated',
    tenant: ctx.tenant.slug,
    data: view,
  });
  published.push({
    type: 'message_received',
    tenant: ctx.tenant.slug,
    data: { ...messageView(message), conversation: view },
  });
  return { stored: true, created: conv.created };
}

async function reopen(tx: Tx, ctx: TenantContext, id: number): Promise<ConversationRow | undefined> {
  const { inboxConversations: c } = ctx.tenant.tables;
  // A savepoint: if a live conversation for the contact appeared meanwhile, the unique index refuses and we use that one.
  try {
    return await tx.transaction(async (sp) => {
      const [row] = await sp
        .update(c)
        .set({ status: 'open', archivedAt: null, updatedAt: new Date() })
        .where(and(eq(c.id, id), eq(c.status, 'archived')))
        .returning();
      return row ?? (await sp.select().from(c).where(eq(c.id, id)))[0];
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505')
      return undefined;
    throw err;
  }
}
