/**
 * Provider webhooks into conversations and messages (DESIGN §8). One statement per webhook and account, the
 * `ingest_webhook` function of every tenant schema (db/migrations/tenant/0001_ingest_function.sql): the
 * receipt, the conversation upserts, the message inserts that ignore duplicates, the spam verdicts and the
 * counters commit together, in one round trip to the database. Status events go to the status-update queue
 * once the receipt is durable.
 */
import { createHash } from 'node:crypto';
import type { InboundMessage, NormalizedEvent, StatusEvent } from '@comms/adapter-kit';
import { and, eq, type Executor, isNull, rawRows, rowFromJson, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import type { DomainEvent } from '../platform/bus/index.js';
import { writeWithEvents } from '../platform/outbox.js';
import type { StatusUpdateJob } from '../platform/queue/definitions.js';
import { type SpamRules, spamChecks, spamRulesOf } from './spam.js';
import { type AttachmentItem, enqueueMediaFetches, inboundAttachments } from './media-items.js';
import { type ChannelAccountRow, conversationView, type MessageRow, messageView } from './views.js';

export interface WebhookReceipt {
  provider: string;
  /** The raw body, stored for audit and replay. */
  payload: string;
  contentType: string | null;
  /** The provider's own id of the delivery (SNS MessageId); the payload's hash when absent. */
  dedupeKey?: string;
}

/** A receipt's dedupe key for one account: its own key for each account a batch names. */
const receiptKey = (account: ChannelAccountRow, receipt: WebhookReceipt) =>
  `${account.id}:${receipt.dedupeKey ?? dedupeKeyOf(receipt.payload)}`;

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

/** One message as `ingest_webhook` takes it: the row's fields, and what the rules decided without the database. */
export function ingestInputOf(m: InboundMessage, rules: SpamRules, attachments: AttachmentItem[]) {
  return {
    external_id: m.external_id,
    type: m.type,
    content: m.text,
    media_url: m.media[0]?.url ?? null,
    attachments,
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
    provider_ts: m.timestamp.toISOString(),
    sender: m.sender_identifier,
    name: m.sender_name,
    // Email threading: the ids this mail answers, matched against stored external ids and Message-IDs.
    refs: m.email ? [m.email.in_reply_to, ...(m.email.references ?? [])].filter((r): r is string => Boolean(r)) : [],
    preview: previewOf(m),
    max_per_minute: rules.max_messages_per_minute,
    spam: spamChecks(rules, m.sender_identifier, m.text),
  };
}

interface IngestOutcome {
  duplicate: boolean;
  webhook_id: number;
  messages?: {
    stored: boolean;
    created: boolean;
    conversation?: Record<string, unknown>;
    message?: Record<string, unknown>;
  }[];
}

/** The events of the messages an ingest stored: the conversation's, then the message's. */
function eventsOf(ctx: TenantContext, outcome: IngestOutcome): DomainEvent[] {
  const { inboxConversations, inboxMessages } = ctx.tenant.tables;
  const published: DomainEvent[] = [];
  if (outcome.duplicate) return published;
  for (const r of outcome.messages ?? []) {
    if (!r.stored || !r.conversation || !r.message) continue;
    const view = conversationView(rowFromJson(inboxConversations, r.conversation));
    published.push(
      { type: r.created ? 'conversation_created' : 'conversation_updated', tenant: ctx.tenant.slug, data: view },
      {
        type: 'message_received',
        tenant: ctx.tenant.slug,
        data: { ...messageView(rowFromJson(inboxMessages, r.message)), conversation: view },
      },
    );
  }
  return published;
}

/** Stores every message and queues every status of one verified webhook. Idempotent. */
export async function ingestWebhook(
  ctx: TenantContext,
  account: ChannelAccountRow,
  receipt: WebhookReceipt,
  events: NormalizedEvent[],
): Promise<IngestResult> {
  const { webhookEvents: w, inboxMessages } = ctx.tenant.tables;
  // Per account: one batch may carry events of several accounts, each stored under its own receipt.
  const dedupeKey = receiptKey(account, receipt);
  const statuses = events.filter((e): e is StatusEvent => e.kind === 'status');
  const rules = spamRulesOf(ctx.tenant.settings);
  const messages: ReturnType<typeof ingestInputOf>[] = [];
  for (const m of events.filter((e): e is InboundMessage => e.kind === 'message'))
    messages.push(ingestInputOf(m, rules, await inboundAttachments(ctx, m)));
  // Without statuses nothing is left for the queue: the receipt is processed when it commits.
  const ingest = async (db: Executor) => {
    const [row] = await rawRows<{ outcome: IngestOutcome }>(
      db,
      sql`select ${sql.identifier(ctx.tenant.schemaName)}.ingest_webhook(
          ${receipt.provider}, ${account.id}::integer, ${account.provider}, ${dedupeKey}, ${receipt.payload},
          ${receipt.contentType}, ${statuses.length === 0}, ${JSON.stringify(messages)}::jsonb) as outcome`,
    );
    return row!.outcome;
  };
  // With outgoing webhooks, their deliveries commit with the messages (the outbox); without, one statement.
  const { result: outcome, events: published } = messages.length
    ? await writeWithEvents(ctx, ingest, (result) => eventsOf(ctx, result))
    : { result: await ingest(ctx.db), events: [] };
  if (outcome.duplicate)
    return {
      duplicateWebhook: true,
      messagesStored: 0,
      messagesDuplicate: 0,
      statusesQueued: 0,
      conversationsCreated: 0,
    };

  // Throws while the queue is away: the gateway answers 503, the provider redelivers, and the
  // unprocessed receipt is worked through again.
  if (statuses.length) {
    for (const status of statuses)
      await ctx.queues.add('status-update', statusJobOf(ctx.tenant.slug, account.id, status));
    await ctx.db.update(w).set({ processedAt: new Date() }).where(eq(w.id, outcome.webhook_id));
  }

  const stored = (outcome.messages ?? []).filter((r) => r.stored && r.conversation && r.message).length;
  const created = (outcome.messages ?? []).filter((r) => r.created).length;
  const withMedia: MessageRow[] = [];
  for (const r of outcome.messages ?? []) {
    if (!r.stored || !r.message) continue;
    const message = rowFromJson(inboxMessages, r.message);
    if (message.attachments.length) withMedia.push(message);
  }
  // The messages are stored: a fetch that cannot be queued now is queued by the worker's sweep of pending items.
  // Not awaited, so the provider's answer does not wait on the queue's round trips: the sweep covers a fetch that
  // could not be queued, whether the add failed or the process stopped first.
  if (withMedia.length)
    void enqueueMediaFetches(ctx, withMedia).catch((err: unknown) =>
      ctx.log.warn({ err: String(err) }, 'media fetches not queued; the sweep will queue them'),
    );
  // In order, not awaited: the messages are durable; the bus keeps the order and retries on its own.
  for (const event of published) void ctx.bus.publish(event);
  return {
    duplicateWebhook: false,
    messagesStored: stored,
    messagesDuplicate: messages.length - stored,
    statusesQueued: statuses.length,
    conversationsCreated: created,
  };
}

/**
 * A signed webhook refused as malformed (issue 21 point 2): its receipt, for audit, with `error` saying why, and no
 * conversation, message or status. Processed, so nothing replays it; under a dedupe key of its own, so a redelivery
 * adds no second row and a later accepted delivery of the same bytes (once the adapter reads them) is not taken
 * for a duplicate. Throws while the database is away: the gateway answers 503 then.
 */
export async function recordRejectedWebhook(
  ctx: TenantContext,
  account: ChannelAccountRow,
  receipt: WebhookReceipt,
  error: string,
): Promise<void> {
  const w = ctx.tenant.tables.webhookEvents;
  await ctx.db
    .insert(w)
    .values({
      provider: receipt.provider,
      channelAccountId: account.id,
      dedupeKey: `rejected:${account.id}:${dedupeKeyOf(receipt.payload)}`,
      payload: receipt.payload,
      contentType: receipt.contentType,
      processedAt: new Date(),
      error,
    })
    .onConflictDoNothing();
}

/**
 * A subscription message's receipt (SNS SubscriptionConfirmation, UnsubscribeConfirmation), claimed for handling: the
 * receipt is stored and marked processed in one step, so of two deliveries racing only one handles it; 'duplicate'
 * when another has (or is). `release` gives the claim back when the handling failed, so a redelivery tries again.
 */
export async function claimSubscriptionReceipt(
  ctx: TenantContext,
  account: ChannelAccountRow,
  receipt: WebhookReceipt,
): Promise<'duplicate' | { release(): Promise<void> }> {
  const w = ctx.tenant.tables.webhookEvents;
  const dedupeKey = receiptKey(account, receipt);
  await ctx.db
    .insert(w)
    .values({
      provider: receipt.provider,
      channelAccountId: account.id,
      dedupeKey,
      payload: receipt.payload,
      contentType: receipt.contentType,
    })
    .onConflictDoNothing();
  const [claimed] = await ctx.db
    .update(w)
    .set({ processedAt: new Date() })
    .where(and(eq(w.provider, receipt.provider), eq(w.dedupeKey, dedupeKey), isNull(w.processedAt)))
    .returning({ id: w.id });
  if (!claimed) return 'duplicate';
  return {
    release: async () => {
      await ctx.db.update(w).set({ processedAt: null }).where(eq(w.id, claimed.id));
    },
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
    note: s.note ?? null,
  };
}
