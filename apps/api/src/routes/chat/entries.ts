/**
 * Chat messages (DESIGN §6 Chat): send, page, edit, delete, pin, react, edit history, read markers, typing.
 * Paths sit under /chat/, beside the inbox's /messages.
 */
import {
  deleteEntry,
  editEntry,
  listEdits,
  listEntries,
  markChannelRead,
  pinEntry,
  postEntry,
  sendTyping,
  setReaction,
} from '@comms/core/chat';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../lib/env.js';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi.js';
import {
  ChannelIdParam,
  Edit,
  EditMessage,
  Emoji,
  Entry,
  EntryIdParam,
  EntryPage,
  EntryReactions,
  ListMessagesQuery,
  MarkRead,
  PinBody,
  PostMessage,
  ReactionBody,
  ReadState,
  Typing,
} from './schemas.js';

const base = '/api/v1/tenants/{tenant}/communications/chat';
const tags = ['chat messages'];

export const entryRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/channels/{id}/messages`,
      operationId: 'postChatMessage',
      tags,
      security: bearer,
      summary: 'Post a message (members; in read-only channels admins and moderators)',
      description:
        'Mentions: `<@UUID>` in the content, the `mentions` list, and `@everyone`/`@channel`/`@here` (every member ' +
        'but the author) count for members only. A retry with the same `client_msg_id` returns the first entry ' +
        'with 200.',
      request: { params: ChannelIdParam, body: jsonBody(PostMessage) },
      responses: {
        200: jsonResponse(Entry, 'The entry this client_msg_id already made'),
        201: jsonResponse(Entry, 'The new entry'),
        ...problems(404, 409),
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
      path: `${base}/channels/{id}/messages`,
      operationId: 'listChatMessages',
      tags,
      security: bearer,
      summary: 'A page of entries: newest first by default and with `before`; oldest first with `after`, `around`',
      description:
        'Keyset pages on the entry id (give at most one of before, after, around). Every page gives ' +
        '`older_cursor` (pass as `before`) and `newer_cursor` (pass as `after`), null when nothing is on that ' +
        "side, and `next_cursor`, the one in the page's own direction: walking either way, or turning back, " +
        'visits each entry once. `pinned=true` lists pinned messages only. Deleted messages keep their place ' +
        'with `is_deleted: true` and no content; `join`/`leave` entries are included.',
      request: { params: ChannelIdParam, query: ListMessagesQuery },
      responses: { 200: jsonResponse(EntryPage, 'A page of entries'), ...problems(404) },
    }),
    async (c) => c.json(await listEntries(c.get('ctx'), c.req.valid('param').id, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/messages/{id}`,
      operationId: 'editChatMessage',
      tags,
      security: bearer,
      summary: 'Edit your message (the previous content goes to its edit history)',
      request: { params: EntryIdParam, body: jsonBody(EditMessage) },
      responses: { 200: jsonResponse(Entry, 'The edited entry'), ...problems(404, 409, 422) },
    }),
    async (c) => c.json(await editEntry(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/messages/{id}`,
      operationId: 'deleteChatMessage',
      tags,
      security: bearer,
      summary: 'Delete a message (its author, or a moderator or admin of the channel)',
      description:
        'Soft: it keeps its place; later reads show `is_deleted: true`, no content, attachments or reactions.',
      request: { params: EntryIdParam },
      responses: { 204: { description: 'Deleted (also when it already was)' }, ...problems(404, 422) },
    }),
    async (c) => {
      await deleteEntry(c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/messages/{id}/pin`,
      operationId: 'pinChatMessage',
      tags,
      security: bearer,
      summary: 'Pin, or unpin with {"pinned": false} (moderators and admins)',
      description:
        'Sets the state rather than toggling it, so a retry does what the first call did. Without a body it pins. ' +
        'List pinned messages with `GET .../chat/channels/{id}/messages?pinned=true`.',
      request: {
        params: EntryIdParam,
        body: { content: { 'application/json': { schema: PinBody } }, required: false },
      },
      responses: { 200: jsonResponse(Entry, 'The entry'), ...problems(404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json') as { pinned?: boolean };
      return c.json(await pinEntry(c.get('ctx'), c.req.valid('param').id, body.pinned ?? true), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/messages/{id}/reactions`,
      operationId: 'addChatReaction',
      tags,
      security: bearer,
      summary: 'React with an emoji (members; one per user and emoji, so repeating changes nothing)',
      request: { params: EntryIdParam, body: jsonBody(ReactionBody) },
      responses: { 200: jsonResponse(EntryReactions, "The message's reactions"), ...problems(404, 409, 422) },
    }),
    async (c) => c.json(await setReaction(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').emoji, true), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/messages/{id}/reactions/{emoji}`,
      operationId: 'removeChatReaction',
      tags,
      security: bearer,
      summary: 'Take your reaction back (the emoji URL-encoded)',
      request: { params: EntryIdParam.extend({ emoji: Emoji.openapi({ param: { name: 'emoji', in: 'path' } }) }) },
      responses: { 200: jsonResponse(EntryReactions, "The message's reactions"), ...problems(404, 422) },
    }),
    async (c) => {
      const { id, emoji } = c.req.valid('param');
      return c.json(await setReaction(c.get('ctx'), id, emoji, false), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/messages/{id}/edits`,
      operationId: 'listChatMessageEdits',
      tags,
      security: bearer,
      summary: "A message's earlier versions, oldest first (none once it is deleted)",
      request: { params: EntryIdParam },
      responses: { 200: jsonResponse(z.object({ data: z.array(Edit) }), 'The edit history'), ...problems(404) },
    }),
    async (c) => c.json({ data: await listEdits(c.get('ctx'), c.req.valid('param').id) }, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/channels/{id}/read`,
      operationId: 'markChatChannelRead',
      tags,
      security: bearer,
      summary: 'Move your read marker forward to an entry of the channel (never back)',
      description: 'Marks your mentions up to it read and answers the unread and mention counts that remain.',
      request: { params: ChannelIdParam, body: jsonBody(MarkRead) },
      responses: { 200: jsonResponse(ReadState, 'Your read state'), ...problems(404) },
    }),
    async (c) =>
      c.json(await markChannelRead(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').entry_id), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/channels/{id}/typing`,
      operationId: 'sendChatTyping',
      tags,
      security: bearer,
      summary: 'Say you are typing (ephemeral; at most one broadcast per user and channel every 2 s)',
      request: { params: ChannelIdParam },
      responses: { 200: jsonResponse(Typing, 'Whether it was broadcast'), ...problems(404, 409) },
    }),
    async (c) => c.json(await sendTyping(c.get('ctx'), c.req.valid('param').id), 200),
  );
