/** Team chat routes (DESIGN §6 Chat): channels, members, entries, read state. A first slice. */
import {
  addMember,
  CHANNEL_TYPES,
  createChannel,
  channelView,
  deleteChannel,
  deleteEntry,
  editEntry,
  listEdits,
  listEntries,
  listMembers,
  listMyChannels,
  markChannelRead,
  MEMBER_ROLES,
  pinEntry,
  postEntry,
  removeMember,
  sendTyping,
  setReaction,
  updateChannel,
  updateMember,
  visibleChannel,
} from '@comms/core';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../lib/env.js';
import {
  bearer,
  IdParam,
  jsonBody,
  jsonResponse,
  problems,
  QueryBool,
  TenantParam,
  Timestamp,
  Uuid,
} from '../../lib/openapi.js';

const Channel = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    type: z.string(),
    is_archived: z.boolean(),
    is_read_only: z.boolean(),
    max_members: z.number().int().nullable(),
    created_by: z.string(),
    last_activity_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    unread_count: z.number().int().optional(),
    mention_count: z.number().int().optional(),
  })
  .openapi('Channel');

const Member = z
  .object({
    channel_id: z.number().int(),
    user_id: z.string(),
    role: z.string(),
    nickname: z.string().nullable(),
    is_muted: z.boolean(),
    notification_level: z.string(),
    last_read_entry_id: z.number().int(),
    last_read_at: Timestamp.nullable(),
    joined_at: Timestamp,
  })
  .openapi('ChannelMember');

const Attachment = z.object({
  file_id: z.string().min(1).max(200),
  url: z.url().max(2048),
  name: z.string().min(1).max(255),
  size: z.number().int().nonnegative(),
  mime_type: z.string().min(1).max(255),
});

const Entry = z
  .object({
    id: z.number().int(),
    channel_id: z.number().int(),
    user_id: z.string().nullable(),
    entry_type: z.string(),
    content: z.string().nullable(),
    attachments: z.array(z.record(z.string(), z.unknown())),
    reply_to_id: z.number().int().nullable(),
    client_msg_id: z.string().nullable(),
    is_edited: z.boolean(),
    edited_at: Timestamp.nullable(),
    is_deleted: z.boolean(),
    is_pinned: z.boolean(),
    reactions: z.record(z.string(), z.array(z.string())),
    created_at: Timestamp,
  })
  .openapi('ChatEntry');

const Reactions = z
  .object({ entry_id: z.number().int(), reactions: z.record(z.string(), z.array(z.string())) })
  .openapi('Reactions');

const base = '/api/v1/tenants/{tenant}/communications';
const tags = ['chat'];
const ChannelMemberParam = IdParam.extend({ user_id: z.uuid().openapi({ param: { name: 'user_id', in: 'path' } }) });

export const chatRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/channels`,
      operationId: 'createChannel',
      tags,
      security: bearer,
      summary: 'Create a channel; a direct channel for the same users returns the existing one (200)',
      request: {
        params: TenantParam,
        body: jsonBody(
          z
            .object({
              name: z.string().trim().min(1).max(100).optional(),
              slug: z
                .string()
                .regex(/^[a-z0-9][a-z0-9-]{0,59}$/)
                .optional(),
              description: z.string().max(1000).nullish(),
              type: z.enum(CHANNEL_TYPES).default('public'),
              is_read_only: z.boolean().optional(),
              max_members: z.number().int().min(2).max(100_000).nullish(),
              member_ids: z.array(Uuid).max(50).optional(),
            })
            .openapi('CreateChannel'),
        ),
      },
      responses: {
        200: jsonResponse(Channel, 'The existing direct channel'),
        201: jsonResponse(Channel, 'The channel'),
        ...problems(404, 409, 422),
      },
    }),
    async (c) => {
      const { channel, created } = await createChannel(c.get('ctx'), c.req.valid('json'));
      return created ? c.json(channel, 201) : c.json(channel, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/channels`,
      operationId: 'listChannels',
      tags,
      security: bearer,
      summary: "The caller's channels with unread_count and mention_count",
      request: { params: TenantParam },
      responses: {
        200: jsonResponse(z.object({ data: z.array(Channel), next_cursor: z.null() }), 'Channels'),
        ...problems(404),
      },
    }),
    async (c) => c.json({ data: await listMyChannels(c.get('ctx')), next_cursor: null }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/channels/{id}`,
      operationId: 'getChannel',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(Channel, 'The channel'), ...problems(404) },
    }),
    async (c) => c.json(channelView((await visibleChannel(c.get('ctx'), c.req.valid('param').id)).channel), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/channels/{id}`,
      operationId: 'updateChannel',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .object({
              name: z.string().trim().min(1).max(100).optional(),
              description: z.string().max(1000).nullish(),
              is_read_only: z.boolean().optional(),
              max_members: z.number().int().min(2).max(100_000).nullish(),
            })
            .strict()
            .openapi('UpdateChannel'),
        ),
      },
      responses: { 200: jsonResponse(Channel, 'The channel'), ...problems(404) },
    }),
    async (c) => c.json(await updateChannel(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/channels/{id}`,
      operationId: 'deleteChannel',
      tags,
      security: bearer,
      summary: 'Archive (admins); ?purge=true deletes it (tenant admins)',
      request: { params: IdParam, query: z.object({ purge: QueryBool.optional() }) },
      responses: { 204: { description: 'Archived or deleted' }, ...problems(404) },
    }),
    async (c) => {
      await deleteChannel(c.get('ctx'), c.req.valid('param').id, c.req.valid('query').purge ?? false);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/channels/{id}/members`,
      operationId: 'addChannelMember',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(z.object({ user_id: Uuid, role: z.enum(MEMBER_ROLES).optional() }).openapi('AddChannelMember')),
      },
      responses: { 201: jsonResponse(Member, 'The member'), ...problems(404, 409, 422) },
    }),
    async (c) => c.json(await addMember(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/channels/{id}/members`,
      operationId: 'listChannelMembers',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(z.object({ data: z.array(Member), next_cursor: z.null() }), 'Members'),
        ...problems(404),
      },
    }),
    async (c) => c.json({ data: await listMembers(c.get('ctx'), c.req.valid('param').id), next_cursor: null }, 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/channels/{id}/members/{user_id}`,
      operationId: 'removeChannelMember',
      tags,
      security: bearer,
      request: { params: ChannelMemberParam },
      responses: { 204: { description: 'Removed (or left)' }, ...problems(404, 409) },
    }),
    async (c) => {
      const { id, user_id } = c.req.valid('param');
      await removeMember(c.get('ctx'), id, user_id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/chat/channels/{id}/messages`,
      operationId: 'postChatMessage',
      tags,
      security: bearer,
      summary: 'Post a message; a retry with the same client_msg_id returns the first entry (200)',
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .object({
              content: z.string().max(10_000).nullish(),
              attachments: z.array(Attachment).max(20).optional(),
              reply_to_id: z.number().int().positive().nullish(),
              client_msg_id: z.string().min(1).max(100).nullish(),
              mentions: z.array(Uuid).max(100).optional(),
            })
            .openapi('PostChatMessage'),
        ),
      },
      responses: {
        200: jsonResponse(Entry, 'The entry this client_msg_id already made'),
        201: jsonResponse(Entry, 'The entry'),
        ...problems(404, 409, 422),
      },
    }),
    async (c) => {
      const { entry, created } = await postEntry(c.get('ctx'), c.req.valid('param').id, c.req.valid('json'));
      return created ? c.json(entry, 201) : c.json(entry, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/chat/channels/{id}/messages`,
      operationId: 'listChatMessages',
      tags,
      security: bearer,
      summary:
        'Newest first (or `before` an entry); `after` an entry gives oldest first; `around` an entry; `pinned=true`',
      request: {
        params: IdParam,
        query: z.object({
          before: z.coerce.number().int().positive().optional(),
          after: z.coerce.number().int().nonnegative().optional(),
          around: z.coerce
            .number()
            .int()
            .positive()
            .optional()
            .openapi({ description: 'An entry and its neighbours, oldest first' }),
          pinned: QueryBool.optional().openapi({ description: 'Only pinned entries' }),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: jsonResponse(z.object({ data: z.array(Entry), next_cursor: z.string().nullable() }), 'Entries'),
        ...problems(404),
      },
    }),
    async (c) => c.json(await listEntries(c.get('ctx'), c.req.valid('param').id, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/chat/messages/{id}`,
      operationId: 'editChatMessage',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(z.object({ content: z.string().min(1).max(10_000) }).openapi('EditChatMessage')),
      },
      responses: { 200: jsonResponse(Entry, 'The edited entry'), ...problems(404, 409) },
    }),
    async (c) => c.json(await editEntry(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').content), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/chat/messages/{id}`,
      operationId: 'deleteChatMessage',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted (content hidden from later reads)' }, ...problems(404) },
    }),
    async (c) => {
      await deleteEntry(c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/chat/channels/{id}/read`,
      operationId: 'markChatChannelRead',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(z.object({ entry_id: z.number().int().nonnegative() }).openapi('MarkRead')),
      },
      responses: {
        200: jsonResponse(
          z.object({
            channel_id: z.number().int(),
            last_read_entry_id: z.number().int(),
            last_read_at: Timestamp.nullable(),
          }),
          'Read state',
        ),
        ...problems(404),
      },
    }),
    async (c) =>
      c.json(await markChannelRead(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').entry_id), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/channels/{id}/members/{user_id}`,
      operationId: 'updateChannelMember',
      tags,
      security: bearer,
      summary: 'Own settings (nickname, mute, notification level); roles by channel admins',
      request: {
        params: ChannelMemberParam,
        body: jsonBody(
          z
            .object({
              role: z.enum(MEMBER_ROLES).optional(),
              nickname: z.string().max(100).nullish(),
              is_muted: z.boolean().optional(),
              notification_level: z.enum(['all', 'mentions', 'none']).optional(),
            })
            .strict()
            .openapi('UpdateChannelMember'),
        ),
      },
      responses: { 200: jsonResponse(Member, 'The member'), ...problems(404) },
    }),
    async (c) => {
      const { id, user_id } = c.req.valid('param');
      return c.json(await updateMember(c.get('ctx'), id, user_id, c.req.valid('json')), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/chat/messages/{id}/pin`,
      operationId: 'pinChatMessage',
      tags,
      security: bearer,
      summary: 'Pin (default) or unpin with {"pinned": false}; moderators and admins',
      request: {
        params: IdParam,
        body: {
          content: {
            'application/json': { schema: z.object({ pinned: z.boolean().default(true) }).openapi('PinChatMessage') },
          },
          required: false,
        },
      },
      responses: { 200: jsonResponse(Entry, 'The entry'), ...problems(404) },
    }),
    async (c) => {
      const body = await c.req.json().catch(() => ({}));
      const pinned =
        typeof (body as { pinned?: unknown }).pinned === 'boolean' ? (body as { pinned: boolean }).pinned : true;
      return c.json(await pinEntry(c.get('ctx'), c.req.valid('param').id, pinned), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/chat/messages/{id}/reactions`,
      operationId: 'addChatReaction',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(z.object({ emoji: z.string().min(1).max(64) }).openapi('AddReaction')),
      },
      responses: { 200: jsonResponse(Reactions, "The entry's reactions"), ...problems(404) },
    }),
    async (c) => c.json(await setReaction(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').emoji, true), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/chat/messages/{id}/reactions/{emoji}`,
      operationId: 'removeChatReaction',
      tags,
      security: bearer,
      request: {
        params: IdParam.extend({
          emoji: z
            .string()
            .min(1)
            .max(64)
            .openapi({ param: { name: 'emoji', in: 'path' } }),
        }),
      },
      responses: { 200: jsonResponse(Reactions, "The entry's reactions"), ...problems(404) },
    }),
    async (c) => {
      const { id, emoji } = c.req.valid('param');
      return c.json(await setReaction(c.get('ctx'), id, emoji, false), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/chat/messages/{id}/edits`,
      operationId: 'listChatMessageEdits',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(
          z.object({
            data: z.array(
              z.object({ previous_content: z.string().nullable(), edited_by: z.string(), edited_at: Timestamp }),
            ),
          }),
          'Edit history, oldest first',
        ),
        ...problems(404),
      },
    }),
    async (c) => c.json({ data: await listEdits(c.get('ctx'), c.req.valid('param').id) }, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/chat/channels/{id}/typing`,
      operationId: 'sendTyping',
      tags,
      security: bearer,
      summary: 'A typing indicator (ephemeral; at most one broadcast per user and channel every 2 s)',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(z.object({ broadcast: z.boolean() }), 'Whether it was broadcast'),
        ...problems(404),
      },
    }),
    async (c) => c.json(await sendTyping(c.get('ctx'), c.req.valid('param').id), 200),
  );
