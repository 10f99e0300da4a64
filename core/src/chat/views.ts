/** Chat rows → the snake_case shapes the API returns and chat events carry. */
import type { TenantTables } from '@comms/db';

export const CHANNEL_TYPES = ['public', 'private', 'direct'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const MEMBER_ROLES = ['admin', 'moderator', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
export const NOTIFICATION_LEVELS = ['all', 'mentions', 'none'] as const;
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number];
/** `message`, or the system entries written when someone joins or leaves. */
export const ENTRY_TYPES = ['message', 'join', 'leave', 'system'] as const;

export type ChannelRow = TenantTables['channels']['$inferSelect'];
export type MemberRow = TenantTables['channelMembers']['$inferSelect'];
export type EntryRow = TenantTables['chatEntries']['$inferSelect'];

/** File Service metadata of an attachment; the file itself never passes through this service. */
export interface Attachment {
  file_id: string;
  url: string;
  name: string;
  size: number;
  mime_type: string;
}

/** Who an emoji came from: `{"👍": [user ids, oldest first]}`. */
export type ReactionMap = Record<string, string[]>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function channelView(r: ChannelRow) {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    description: r.description,
    topic: r.topic,
    type: r.type as ChannelType,
    is_archived: r.isArchived,
    is_read_only: r.isReadOnly,
    max_members: r.maxMembers,
    created_by: r.createdBy,
    last_activity_at: iso(r.lastActivityAt)!,
    archived_at: iso(r.archivedAt),
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}
export type ChannelView = ReturnType<typeof channelView>;

/** What the caller sees of a channel in lists and on GET: their read state beside the channel. */
export interface ChannelStanding {
  is_member: boolean;
  /** The caller's role, null when not a member. */
  role: MemberRole | null;
  member_count: number;
  /** Messages by others after the caller's read marker, not deleted (0 for non-members). */
  unread_count: number;
  /** The caller's mentions after their read marker, on entries not deleted (0 for non-members). */
  mention_count: number;
}
export type ChannelWithStanding = ChannelView & ChannelStanding;

export function memberView(r: MemberRow) {
  return {
    channel_id: r.channelId,
    user_id: r.userId,
    role: r.role as MemberRole,
    nickname: r.nickname,
    is_muted: r.isMuted,
    notification_level: r.notificationLevel as NotificationLevel,
    last_read_entry_id: r.lastReadEntryId,
    last_read_at: iso(r.lastReadAt),
    joined_at: iso(r.joinedAt)!,
  };
}
export type MemberView = ReturnType<typeof memberView>;

export function entryView(r: EntryRow, reactions: ReactionMap = {}) {
  // A deleted entry keeps its place in the channel (so pages and read markers still line up), not its content.
  const gone = r.isDeleted;
  return {
    id: r.id,
    channel_id: r.channelId,
    user_id: r.userId,
    entry_type: r.entryType as (typeof ENTRY_TYPES)[number],
    content: gone ? null : r.content,
    attachments: gone ? [] : (r.attachments as unknown as Attachment[]),
    reply_to_id: r.replyToId,
    client_msg_id: r.clientMsgId,
    is_edited: r.isEdited,
    edited_at: iso(r.editedAt),
    edited_by: r.editedBy,
    is_deleted: gone,
    deleted_at: iso(r.deletedAt),
    is_pinned: r.isPinned,
    pinned_at: iso(r.pinnedAt),
    pinned_by: r.pinnedBy,
    reactions: gone ? {} : reactions,
    created_at: iso(r.createdAt)!,
  };
}
export type EntryView = ReturnType<typeof entryView>;
