/** The chat API's request and response bodies (DESIGN §6 Chat): snake_case, ISO timestamps, integer ids. */
import { CHANNEL_TYPES, ENTRY_TYPES, MEMBER_ROLES, NOTIFICATION_LEVELS } from '@comms/core/chat';
import { z } from '@hono/zod-openapi';
import {
  decimalInt,
  limitQuery,
  MAX_ID,
  PublicUrl,
  pathId,
  TenantParam,
  Timestamp,
  text,
  Uuid,
} from '../../lib/openapi.js';

export const ChannelIdParam = TenantParam.extend({ id: pathId('id', 'Channel id') });
export const EntryIdParam = TenantParam.extend({ id: pathId('id', 'Message (entry) id') });
export const MemberParam = ChannelIdParam.extend({
  user_id: z.uuid().openapi({ param: { name: 'user_id', in: 'path' }, description: 'Member user id' }),
});

/** An entry id in a query: `before`, `after`, `around`. */
export const queryEntryId = (min: 0 | 1) => decimalInt(min, MAX_ID);
/** An entry id in a body. */
export const EntryId = z.number().int().positive().max(MAX_ID);

export const Emoji = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\s\p{Cc}/]+$/u, 'one emoji or :shortcode:, without spaces or slashes')
  .openapi({ example: '👍' });

const ChannelType = z.enum(CHANNEL_TYPES);
const MemberRole = z.enum(MEMBER_ROLES);
const NotificationLevel = z.enum(NOTIFICATION_LEVELS);

export const Channel = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    topic: z.string().nullable(),
    type: ChannelType,
    is_archived: z.boolean(),
    is_read_only: z.boolean().openapi({ description: 'Only admins and moderators post' }),
    max_members: z.number().int().nullable(),
    created_by: Uuid,
    last_activity_at: Timestamp,
    archived_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    is_member: z.boolean().openapi({ description: 'Whether the caller is a member' }),
    role: MemberRole.nullable().openapi({ description: "The caller's role; null when not a member" }),
    member_count: z.number().int(),
    unread_count: z.number().int().openapi({
      description: "Messages by others after the caller's read marker, not deleted (0 when not a member)",
    }),
    mention_count: z.number().int().openapi({
      description: "The caller's mentions after their read marker, on messages not deleted (0 when not a member)",
    }),
  })
  .openapi('Channel');

export const CreateChannel = z
  .object({
    type: ChannelType.default('public'),
    name: text(100).trim().min(1).optional().openapi({ description: 'Required unless direct' }),
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'lowercase letters, digits and dashes, up to 60')
      .optional()
      .openapi({ description: 'Unique in the tenant; derived from the name when left out' }),
    description: text(1000).nullish(),
    topic: text(250).nullish(),
    is_read_only: z.boolean().optional(),
    max_members: z.number().int().min(2).max(100_000).nullish(),
    member_ids: z.array(Uuid).max(100).optional().openapi({
      description: 'Direct: the other users (the creator is included). Public and private: initial members',
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.type === 'direct') {
      for (const field of ['slug', 'is_read_only', 'max_members'] as const)
        if (body[field] !== undefined && body[field] !== null)
          ctx.addIssue({ code: 'custom', path: [field], message: 'does not apply to a direct channel' });
      if (!body.member_ids?.length)
        ctx.addIssue({ code: 'custom', path: ['member_ids'], message: 'name at least one other user' });
    } else if (!body.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'required' });
  })
  .openapi('CreateChannel');

export const UpdateChannel = z
  .object({
    name: text(100).trim().min(1).optional(),
    description: text(1000).nullish(),
    topic: text(250).nullish(),
    is_read_only: z.boolean().optional(),
    max_members: z
      .number()
      .int()
      .min(2)
      .max(100_000)
      .nullish()
      .openapi({ description: 'Lowering it below the current count only stops new joins' }),
  })
  .strict()
  .openapi('UpdateChannel');

export const Member = z
  .object({
    channel_id: z.number().int(),
    user_id: Uuid,
    role: MemberRole,
    nickname: z.string().nullable(),
    is_muted: z.boolean(),
    notification_level: NotificationLevel,
    last_read_entry_id: z.number().int(),
    last_read_at: Timestamp.nullable(),
    joined_at: Timestamp,
  })
  .openapi('ChannelMember');

export const AddMember = z
  .object({
    user_id: Uuid.openapi({ description: 'Your own id to join a public channel' }),
    role: MemberRole.optional().openapi({ description: 'Default member; moderator and admin are given by admins' }),
  })
  .strict()
  .openapi('AddChannelMember');

export const UpdateMember = z
  .object({
    role: MemberRole.optional().openapi({ description: 'Channel admins only' }),
    nickname: text(100).nullish(),
    is_muted: z.boolean().optional(),
    notification_level: NotificationLevel.optional(),
  })
  .strict()
  .openapi('UpdateChannelMember');

export const Attachment = z
  .object({
    file_id: text(200).min(1),
    url: PublicUrl,
    name: text(255).min(1),
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    mime_type: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'a MIME type such as image/png'),
  })
  .strict()
  .openapi('ChatAttachment', { description: 'File Service metadata; the file itself stays in the File Service' });

/** An attachment as entries show it: the posted metadata, or a file of the media store (`media_ids`) with its id. */
export const ChatAttachmentView = Attachment.extend({
  id: z.number().int().optional().openapi({ description: 'The media id, for files of the media store' }),
  sha256: z.string().optional(),
  filename: z.string().nullable().optional(),
  status: z.literal('stored').optional(),
})
  .strip()
  .openapi('ChatAttachmentView');

export const Reactions = z
  .record(z.string(), z.array(Uuid))
  .openapi('ChatReactions', { description: '{emoji: [user ids, in the order they reacted]}', example: {} });

export const Entry = z
  .object({
    id: z.number().int(),
    channel_id: z.number().int(),
    user_id: Uuid.nullable(),
    entry_type: z.enum(ENTRY_TYPES).openapi({ description: '`message`, or the `join`/`leave` system entries' }),
    content: z.string().nullable().openapi({ description: 'null once deleted' }),
    attachments: z.array(ChatAttachmentView).openapi({ description: 'Empty once deleted' }),
    reply_to_id: z.number().int().nullable(),
    client_msg_id: z.string().nullable(),
    is_edited: z.boolean(),
    edited_at: Timestamp.nullable(),
    edited_by: Uuid.nullable(),
    is_deleted: z.boolean(),
    deleted_at: Timestamp.nullable(),
    is_pinned: z.boolean(),
    pinned_at: Timestamp.nullable(),
    pinned_by: Uuid.nullable(),
    reactions: Reactions,
    created_at: Timestamp,
  })
  .openapi('ChatEntry');

export const PostMessage = z
  .object({
    content: text(10_000).nullish().openapi({ description: 'Required unless there are attachments' }),
    attachments: z.array(Attachment).max(20).optional(),
    media_ids: z
      .array(z.number().int().positive().max(2_147_483_647))
      .max(20)
      .optional()
      .openapi({ description: 'Files uploaded with POST .../media, attached with their download URL' }),
    reply_to_id: EntryId.nullish().openapi({ description: 'An entry of the same channel' }),
    client_msg_id: text(100)
      .min(1)
      .nullish()
      .openapi({ description: 'Your id for this send: a retry with the same one returns the first entry (200)' }),
    mentions: z
      .array(Uuid)
      .max(100)
      .optional()
      .openapi({ description: 'Users mentioned besides the <@UUID>s in the content; non-members are ignored' }),
  })
  .strict()
  .openapi('PostChatMessage');

export const EditMessage = z
  .object({
    content: text(10_000).refine((s) => s.trim().length > 0, 'required'),
    mentions: z.array(Uuid).max(100).optional(),
  })
  .strict()
  .openapi('EditChatMessage');

export const ListMessagesQuery = z.object({
  before: queryEntryId(1)
    .optional()
    .openapi({ description: 'Entries older than this id, newest first (pass `older_cursor`)' }),
  after: queryEntryId(0)
    .optional()
    .openapi({ description: 'Entries newer than this id, oldest first (pass `newer_cursor`)' }),
  around: queryEntryId(1)
    .optional()
    .openapi({ description: 'This entry and up to half the page on each side, oldest first' }),
  pinned: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .optional()
    .openapi({ description: 'Only pinned messages' }),
  limit: limitQuery(50),
});

export const EntryPage = z
  .object({
    data: z.array(Entry),
    order: z.enum(['newest_first', 'oldest_first']),
    next_cursor: z.string().nullable().openapi({
      description: "Continues in this page's direction: pass as `before` on newest_first pages, `after` otherwise",
    }),
    older_cursor: z.string().nullable().openapi({ description: 'Pass as `before`; null when nothing is older' }),
    newer_cursor: z.string().nullable().openapi({ description: 'Pass as `after`; null when nothing is newer (yet)' }),
  })
  .openapi('ChatEntryPage');

export const PinBody = z
  .object({ pinned: z.boolean().default(true).openapi({ description: 'true pins (the default), false unpins' }) })
  .strict()
  .openapi('PinChatMessage');

export const ReactionBody = z.object({ emoji: Emoji }).strict().openapi('AddChatReaction');

export const EntryReactions = z
  .object({ entry_id: z.number().int(), channel_id: z.number().int(), reactions: Reactions })
  .openapi('ChatEntryReactions');

export const Edit = z
  .object({
    id: z.number().int(),
    entry_id: z.number().int(),
    previous_content: z.string().nullable(),
    edited_by: Uuid,
    edited_at: Timestamp,
  })
  .openapi('ChatEntryEdit');

export const MarkRead = z
  .object({ entry_id: EntryId.openapi({ description: 'The newest entry the member has seen' }) })
  .strict()
  .openapi('MarkChatChannelRead');

export const ReadState = z
  .object({
    channel_id: z.number().int(),
    user_id: Uuid,
    last_read_entry_id: z.number().int(),
    last_read_at: Timestamp,
    unread_count: z.number().int(),
    mention_count: z.number().int(),
  })
  .openapi('ChatReadState');

export const Typing = z
  .object({ broadcast: z.boolean().openapi({ description: 'false inside the 2 s window of the last broadcast' }) })
  .openapi('ChatTyping');
