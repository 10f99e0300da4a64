/**
 * Provider webhooks into conversations and messages (DESIGN §8). One transaction per webhook:
 * the receipt, the conversation upserts, the message inserts that ignore duplicates, the counters.
 * Status events go to the status-update queue once the receipt is durable.
 */
import { createHash } from 'node:crypto';
import type { InboundMessage, NormalizedEvent, StatusEvent } from '@comms/adapter-kit';
import { rawRows, type Tx } from '@comms/db';
import { and, eq, inArray, or, sql } from 'drizzle-orm';
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
  const result = await ctx.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(w)
      .values({
        provider: receipt.provider,
        channelAccountId: account.id,
        dedupeKey,
        payload: receipt.payload,
        contentType: receipt.contentType,
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
  for (const status of statuses)
    await ctx.queues.add('status-update', statusJobOf(ctx.tenant.slug, account.id, status));
  await ctx.db.update(w).set({ processedAt: new Date() }).where(eq(w.id, result.webhookId));

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

async function storeInboundMessage(
  ctx: TenantContext,
  tx: Tx,
  account: ChannelAccountRow,
  m: InboundMessage,
  published: DomainEvent[],
): Promise<{ stored: boolean; created: boolean }> {
  const { inboxConversations: c, inboxMessages: msg } = ctx.tenant.tables;
  const channel = account.provider;
  const sender = m.sender_identifier;

  // Already stored (a provider retry with a different envelope): nothing to do.
  const [seen] = await tx
    .select({ id: msg.id })
    .from(msg)
    .where(and(eq(msg.channelAccountId, account.id), eq(msg.externalId, m.external_id)))
    .limit(1);
  if (seen) return { stored: false, created: false };

  let conversation: ConversationRow | undefined;
  let created = false;
  const threadId = channel === 'email' ? await findEmailThread(tx, ctx, account, m) : null;
  if (threadId) {
    [conversation] = await tx.select().from(c).where(eq(c.id, threadId));
    if (conversation?.status === 'archived') conversation = await reopen(tx, ctx, conversation.id);
  }
  if (!conversation) {
    // An archived conversation with this contact is reopened rather than replaced.
    const [archived] = await tx
      .select({ id: c.id })
      .from(c)
      .where(
        and(
          eq(c.channelAccountId, account.id),
          eq(c.channel, channel),
          eq(c.contactIdentifier, sender),
          eq(c.status, 'archived'),
        ),
      )
      .orderBy(sql`${c.lastMessageAt} desc`)
      .limit(1);
    const [live] = await tx
      .select()
      .from(c)
      .where(
        and(
          eq(c.channelAccountId, account.id),
          eq(c.channel, channel),
          eq(c.contactIdentifier, sender),
          sql`${c.status} <> 'archived'`,
        ),
      )
      .limit(1);
    conversation = live ?? (archived ? await reopen(tx, ctx, archived.id) : undefined);
  }
  if (!conversation) {
    // Racing webhooks for a new contact meet at the partial unique index: one inserts, the others update.
    const rows = await rawRows<{ id: number; inserted: boolean }>(
      tx,
      sql`insert into ${c} (channel, channel_account_id, contact_identifier, contact_name, status, last_message_at)
          values (${channel}, ${account.id}, ${sender}, ${m.sender_name}, 'new', ${m.timestamp.toISOString()}::timestamptz)
          on conflict (coalesce(channel_account_id, 0), channel, contact_identifier) where status <> 'archived'
          do update set contact_name = coalesce(excluded.contact_name, ${c}.contact_name)
          returning id, (xmax = 0) as inserted`,
    );
    created = rows[0]!.inserted;
    [conversation] = await tx.select().from(c).where(eq(c.id, rows[0]!.id));
  }
  const conv = conversation!;

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
    .onConflictDoNothing()
    .returning();
  const message = inserted[0];
  if (!message) return { stored: false, created };

  // Spam: the rules see this contact's recent traffic across its conversations.
  const rules = spamRulesOf(ctx.tenant.settings);
  let spamReason: string | null = null;
  const clearedByAgent = conv.platformMetadata?.spam_cleared_by_agent === true;
  if (!conv.isSpam) {
    const [recent] = await rawRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from ${msg} m join ${c} cv on cv.id = m.conversation_id
          where cv.channel_account_id = ${account.id} and cv.contact_identifier = ${sender}
            and m.direction = 'in' and m.id <> ${message.id} and m.created_at > now() - interval '1 minute'`,
    );
    const reason = detectSpam(rules, {
      sender,
      text: m.text,
      firstContact: created,
      recentCount: recent?.n ?? 0,
    });
    // An agent's "not spam" stands against the content rules; a blocked identifier always wins.
    if (reason && (!clearedByAgent || reason === 'blocked identifier')) spamReason = reason;
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
    type: created ? 'conversation_created' : 'conversation_updated',
    tenant: ctx.tenant.slug,
    data: view,
  });
  published.push({
    type: 'message_received',
    tenant: ctx.tenant.slug,
    data: { ...messageView(message), conversation: view },
  });
  return { stored: true, created };
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
