/**
 * Every table of one tenant's schema. The same definitions serve every tenant:
 * `tenantTables(schemaName)` builds them for one schema (cached), so every query
 * names its schema explicitly and nothing depends on `search_path`.
 */
import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { buildWebhookTables } from './webhooks.js';

// Millisecond precision: what a JS Date holds, so keyset cursors round-trip exactly.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
const createdAt = () => ts('created_at').notNull().defaultNow();
const updatedAt = () => ts('updated_at').notNull().defaultNow();
const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();

function buildTenantTables(schemaName: string) {
  const schema = pgSchema(schemaName);

  /** Provider connections: a WhatsApp number, a Facebook page, a Twilio number, an inbound email address. */
  const channelAccounts = schema.table(
    'channel_accounts',
    {
      id: id(),
      provider: text('provider').notNull(),
      name: text('name').notNull(),
      identifier: text('identifier').notNull(),
      /** AES-256-GCM ciphertext of the credentials JSON (`v1:<iv>:<tag>:<data>`, base64). */
      credentialsEncrypted: text('credentials_encrypted'),
      /** Which credential names are set, so the API can say so without decrypting. */
      credentialNames: jsonb('credential_names').$type<string[]>().notNull().default([]),
      status: text('status').notNull().default('active'),
      settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
      /** Replies go to the built-in sandbox transport instead of the provider (the simulator's accounts; development only). */
      sandbox: boolean('sandbox').notNull().default(false),
      /** Email accounts: which transport carries their mail (`sendgrid`, `ses`); null for other providers. */
      transport: text('transport'),
      /** The transport's settings that are not secret (SES: region, from_email, configuration set, SNS topics). */
      transportSettings: jsonb('transport_settings').$type<Record<string, unknown>>().notNull().default({}),
      createdAt: createdAt(),
      updatedAt: updatedAt(),
      deletedAt: ts('deleted_at'),
    },
    (t) => [
      // One live account per provider identifier; a deleted one frees the identifier.
      uniqueIndex('channel_accounts_provider_identifier_key')
        .on(t.provider, t.identifier)
        .where(sql`"deleted_at" IS NULL`),
    ],
  );

  const inboxConversations = schema.table(
    'inbox_conversations',
    {
      id: id(),
      externalId: text('external_id'),
      channel: text('channel').notNull(),
      channelAccountId: integer('channel_account_id').references(() => channelAccounts.id),
      contactName: text('contact_name'),
      contactIdentifier: text('contact_identifier').notNull(),
      contactMetadata: jsonb('contact_metadata').$type<Record<string, unknown>>().notNull().default({}),
      status: text('status').notNull().default('new'),
      priority: text('priority').notNull().default('normal'),
      isSpam: boolean('is_spam').notNull().default(false),
      spamReason: text('spam_reason'),
      firstMessage: text('first_message'),
      lastMessage: text('last_message'),
      messageCount: integer('message_count').notNull().default(0),
      unreadCount: integer('unread_count').notNull().default(0),
      assignedTo: uuid('assigned_to'),
      assignedAt: ts('assigned_at'),
      isLead: boolean('is_lead').notNull().default(false),
      leadId: text('lead_id'),
      qualifiedAt: ts('qualified_at'),
      qualifiedBy: uuid('qualified_by'),
      qualificationNotes: text('qualification_notes'),
      tags: jsonb('tags').$type<string[]>().notNull().default([]),
      platformMetadata: jsonb('platform_metadata').$type<Record<string, unknown>>().notNull().default({}),
      /** The provider's timestamp of the customer's last message: the 24-hour reply windows count from it. */
      lastInboundAt: ts('last_inbound_at'),
      /** Never null: set at creation, so the inbox ordering is total and keyset pagination exact. */
      lastMessageAt: ts('last_message_at').notNull().defaultNow(),
      createdAt: createdAt(),
      updatedAt: updatedAt(),
      archivedAt: ts('archived_at'),
    },
    (t) => [
      // At most one live conversation per contact and account, so racing webhooks make one conversation.
      // coalesce: conversations created through the API may have no account; NULLs would never conflict.
      uniqueIndex('inbox_conversations_live_contact_key')
        .on(sql`coalesce("channel_account_id", 0)`, t.channel, t.contactIdentifier)
        .where(sql`"status" <> 'archived'`),
      index('inbox_conversations_inbox_order_idx').on(t.lastMessageAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
      index('inbox_conversations_status_order_idx').on(
        t.status,
        t.lastMessageAt.desc().nullsFirst(),
        t.id.desc().nullsFirst(),
      ),
      index('inbox_conversations_assigned_to_idx').on(t.assignedTo),
      index('inbox_conversations_contact_idx').on(t.contactIdentifier),
    ],
  );

  const inboxMessages = schema.table(
    'inbox_messages',
    {
      id: id(),
      conversationId: integer('conversation_id')
        .notNull()
        .references(() => inboxConversations.id),
      channelAccountId: integer('channel_account_id').references(() => channelAccounts.id),
      externalId: text('external_id'),
      direction: text('direction').notNull(),
      type: text('type').notNull().default('text'),
      content: text('content'),
      mediaUrl: text('media_url'),
      status: text('status').notNull().default('pending'),
      statusUpdatedAt: ts('status_updated_at'),
      sentBy: uuid('sent_by'),
      attachments: jsonb('attachments').$type<Record<string, unknown>[]>().notNull().default([]),
      metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
      error: jsonb('error').$type<{ code: string; message: string } | null>(),
      /** When the provider says the message was sent (inbound) or accepted (outbound). */
      providerTimestamp: ts('provider_timestamp'),
      quickReplyId: integer('quick_reply_id'),
      createdAt: createdAt(),
    },
    (t) => [
      // A provider's retry never makes a second message.
      uniqueIndex('inbox_messages_account_external_id_key').on(t.channelAccountId, t.externalId),
      index('inbox_messages_conversation_idx').on(t.conversationId, t.id.desc().nullsFirst()),
      index('inbox_messages_pending_idx').on(t.createdAt).where(sql`"status" = 'pending' AND "direction" = 'out'`),
    ],
  );

  const inboxQuickReplies = schema.table(
    'inbox_quick_replies',
    {
      id: id(),
      title: text('title').notNull(),
      content: text('content').notNull(),
      category: text('category'),
      language: text('language').notNull().default('en'),
      shortcuts: jsonb('shortcuts').$type<string[]>().notNull().default([]),
      isActive: boolean('is_active').notNull().default(true),
      usageCount: integer('usage_count').notNull().default(0),
      lastUsedAt: ts('last_used_at'),
      createdBy: uuid('created_by'),
      createdAt: createdAt(),
      updatedAt: updatedAt(),
    },
    (t) => [index('inbox_quick_replies_category_idx').on(t.category, t.language)],
  );

  /** Every accepted webhook, for audit, dedupe and replay. */
  const webhookEvents = schema.table(
    'webhook_events',
    {
      id: id(),
      provider: text('provider').notNull(),
      channelAccountId: integer('channel_account_id').references(() => channelAccounts.id),
      dedupeKey: text('dedupe_key').notNull(),
      payload: text('payload').notNull(),
      contentType: text('content_type'),
      receivedAt: ts('received_at').notNull().defaultNow(),
      processedAt: ts('processed_at'),
      error: text('error'),
    },
    (t) => [uniqueIndex('webhook_events_provider_dedupe_key').on(t.provider, t.dedupeKey)],
  );

  const channels = schema.table(
    'channels',
    {
      id: id(),
      name: text('name').notNull(),
      slug: text('slug').notNull(),
      description: text('description'),
      type: text('type').notNull().default('public'),
      isArchived: boolean('is_archived').notNull().default(false),
      isReadOnly: boolean('is_read_only').notNull().default(false),
      maxMembers: integer('max_members'),
      /** Direct channels: the sorted member ids joined, so one set of users has one channel. */
      directKey: text('direct_key'),
      topic: text('topic'),
      createdBy: uuid('created_by').notNull(),
      settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
      lastActivityAt: ts('last_activity_at').notNull().defaultNow(),
      createdAt: createdAt(),
      updatedAt: updatedAt(),
      archivedAt: ts('archived_at'),
    },
    (t) => [uniqueIndex('channels_slug_key').on(t.slug), uniqueIndex('channels_direct_key').on(t.directKey)],
  );

  const channelMembers = schema.table(
    'channel_members',
    {
      channelId: integer('channel_id')
        .notNull()
        .references(() => channels.id, { onDelete: 'cascade' }),
      userId: uuid('user_id').notNull(),
      role: text('role').notNull().default('member'),
      nickname: text('nickname'),
      isMuted: boolean('is_muted').notNull().default(false),
      notificationLevel: text('notification_level').notNull().default('all'),
      lastReadEntryId: integer('last_read_entry_id').notNull().default(0),
      lastReadAt: ts('last_read_at'),
      joinedAt: ts('joined_at').notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.channelId, t.userId] }), index('channel_members_user_idx').on(t.userId)],
  );

  const chatEntries = schema.table(
    'chat_entries',
    {
      id: id(),
      channelId: integer('channel_id')
        .notNull()
        .references(() => channels.id, { onDelete: 'cascade' }),
      userId: uuid('user_id'),
      /** `message`, or a system entry: `join`, `leave`, `system`. */
      entryType: text('entry_type').notNull().default('message'),
      content: text('content'),
      attachments: jsonb('attachments').$type<Record<string, unknown>[]>().notNull().default([]),
      replyToId: integer('reply_to_id'),
      clientMsgId: text('client_msg_id'),
      isEdited: boolean('is_edited').notNull().default(false),
      editedAt: ts('edited_at'),
      editedBy: uuid('edited_by'),
      isDeleted: boolean('is_deleted').notNull().default(false),
      deletedAt: ts('deleted_at'),
      deletedBy: uuid('deleted_by'),
      isPinned: boolean('is_pinned').notNull().default(false),
      pinnedAt: ts('pinned_at'),
      pinnedBy: uuid('pinned_by'),
      metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
      createdAt: createdAt(),
    },
    (t) => [
      index('chat_entries_channel_idx').on(t.channelId, t.id),
      // A retried send returns the first entry.
      uniqueIndex('chat_entries_client_msg_key').on(t.channelId, t.userId, t.clientMsgId),
    ],
  );

  const chatEntryEdits = schema.table(
    'chat_entry_edits',
    {
      id: id(),
      entryId: integer('entry_id')
        .notNull()
        .references(() => chatEntries.id, { onDelete: 'cascade' }),
      previousContent: text('previous_content'),
      editedBy: uuid('edited_by').notNull(),
      editedAt: ts('edited_at').notNull().defaultNow(),
    },
    (t) => [index('chat_entry_edits_entry_idx').on(t.entryId)],
  );

  const chatReactions = schema.table(
    'chat_reactions',
    {
      entryId: integer('entry_id')
        .notNull()
        .references(() => chatEntries.id, { onDelete: 'cascade' }),
      userId: uuid('user_id').notNull(),
      emoji: text('emoji').notNull(),
      createdAt: createdAt(),
    },
    (t) => [primaryKey({ columns: [t.entryId, t.userId, t.emoji] })],
  );

  const mentions = schema.table(
    'mentions',
    {
      id: id(),
      entryId: integer('entry_id')
        .notNull()
        .references(() => chatEntries.id, { onDelete: 'cascade' }),
      channelId: integer('channel_id')
        .notNull()
        .references(() => channels.id, { onDelete: 'cascade' }),
      userId: uuid('user_id').notNull(),
      /** `user`, `everyone`, `channel` or `here`. */
      mentionType: text('mention_type').notNull().default('user'),
      isRead: boolean('is_read').notNull().default(false),
      createdAt: createdAt(),
    },
    (t) => [
      uniqueIndex('mentions_entry_user_key').on(t.entryId, t.userId),
      index('mentions_user_channel_idx').on(t.userId, t.channelId, t.entryId),
    ],
  );

  /**
   * Files agents can open: inbound media fetched from providers, email attachments, agents' uploads. Content-addressed:
   * one row (and one stored file) per sha256, whichever messages refer to it.
   */
  const media = schema.table(
    'media',
    {
      id: id(),
      sha256: text('sha256').notNull(),
      mimeType: text('mime_type').notNull(),
      size: integer('size').notNull(),
      filename: text('filename'),
      /** `local` or `file-service`: which backend holds the bytes. */
      backend: text('backend').notNull(),
      /** Where that backend keeps it (the sha256 for the local store, the File Service's id). */
      storageKey: text('storage_key').notNull(),
      createdAt: createdAt(),
    },
    (t) => [uniqueIndex('media_sha256_key').on(t.sha256)],
  );

  return {
    schema,
    channelAccounts,
    inboxConversations,
    inboxMessages,
    inboxQuickReplies,
    webhookEvents,
    channels,
    channelMembers,
    chatEntries,
    chatEntryEdits,
    chatReactions,
    mentions,
    media,
    ...buildWebhookTables(schema),
  };
}

export type TenantTables = ReturnType<typeof buildTenantTables>;

const cache = new Map<string, TenantTables>();

/** The tenant's tables, bound to its schema. Callers pass a validated schema name. */
export function tenantTables(schemaName: string): TenantTables {
  let tables = cache.get(schemaName);
  if (!tables) {
    tables = buildTenantTables(schemaName);
    cache.set(schemaName, tables);
  }
  return tables;
}

/** The placeholder schema the migrations are generated against and rewritten from. */
export const TEMPLATE_SCHEMA = 'tenant_template';
