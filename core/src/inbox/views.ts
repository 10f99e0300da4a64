/** Rows → the snake_case shapes the API returns and events carry. */
import type { TenantTables } from '@comms/db';

type Tables = TenantTables;
export type ConversationRow = Tables['inboxConversations']['$inferSelect'];
export type MessageRow = Tables['inboxMessages']['$inferSelect'];
export type QuickReplyRow = Tables['inboxQuickReplies']['$inferSelect'];
export type ChannelAccountRow = Tables['channelAccounts']['$inferSelect'];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function conversationView(r: ConversationRow) {
  return {
    id: r.id,
    external_id: r.externalId,
    channel: r.channel,
    channel_account_id: r.channelAccountId,
    contact_name: r.contactName,
    contact_identifier: r.contactIdentifier,
    contact_metadata: r.contactMetadata,
    status: r.status,
    priority: r.priority,
    is_spam: r.isSpam,
    spam_reason: r.spamReason,
    first_message: r.firstMessage,
    last_message: r.lastMessage,
    message_count: r.messageCount,
    unread_count: r.unreadCount,
    assigned_to: r.assignedTo,
    assigned_at: iso(r.assignedAt),
    is_lead: r.isLead,
    lead_id: r.leadId,
    qualified_at: iso(r.qualifiedAt),
    qualified_by: r.qualifiedBy,
    qualification_notes: r.qualificationNotes,
    tags: r.tags,
    platform_metadata: r.platformMetadata,
    last_inbound_at: iso(r.lastInboundAt),
    last_message_at: iso(r.lastMessageAt)!,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
    archived_at: iso(r.archivedAt),
  };
}
export type ConversationView = ReturnType<typeof conversationView>;

export function messageView(r: MessageRow) {
  return {
    id: r.id,
    conversation_id: r.conversationId,
    channel_account_id: r.channelAccountId,
    external_id: r.externalId,
    direction: r.direction as 'in' | 'out',
    type: r.type,
    content: r.content,
    media_url: r.mediaUrl,
    status: r.status,
    status_updated_at: iso(r.statusUpdatedAt),
    sent_by: r.sentBy,
    attachments: r.attachments,
    metadata: r.metadata,
    error: r.error ?? null,
    provider_timestamp: iso(r.providerTimestamp),
    quick_reply_id: r.quickReplyId,
    created_at: iso(r.createdAt)!,
  };
}
export type MessageView = ReturnType<typeof messageView>;

export function quickReplyView(r: QuickReplyRow) {
  return {
    id: r.id,
    title: r.title,
    content: r.content,
    category: r.category,
    language: r.language,
    shortcuts: r.shortcuts,
    is_active: r.isActive,
    usage_count: r.usageCount,
    last_used_at: iso(r.lastUsedAt),
    created_by: r.createdBy,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}
export type QuickReplyView = ReturnType<typeof quickReplyView>;

/** Secrets never leave: only the names of the credentials that are set. */
export function channelAccountView(r: ChannelAccountRow) {
  return {
    id: r.id,
    provider: r.provider,
    name: r.name,
    identifier: r.identifier,
    credentials: r.credentialNames,
    status: r.status,
    settings: r.settings,
    sandbox: r.sandbox,
    transport: r.provider === 'email' ? ((r.transport ?? 'sendgrid') as 'sendgrid' | 'ses') : null,
    ses: r.provider === 'email' && r.transport === 'ses' ? r.transportSettings : null,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}
export type ChannelAccountView = ReturnType<typeof channelAccountView>;
