/** Inbox messages (DESIGN §6): outbound replies, the list per conversation, status, retry. */
import {
  listMessages,
  messageView,
  findMessage,
  retryMessage,
  sendMessage,
  updateMessageStatus,
} from '@comms/core/inbox';
import { MessageType } from '@comms/adapter-kit';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../lib/env.js';
import {
  bearer,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageOf,
  PublicUrl,
  problems,
  TenantParam,
  Timestamp,
  jsonPageResponse,
} from '../lib/openapi.js';

export const Message = z
  .object({
    id: z.number().int(),
    conversation_id: z.number().int(),
    channel_account_id: z.number().int().nullable(),
    external_id: z.string().nullable(),
    direction: z.enum(['in', 'out']),
    type: z.string(),
    content: z.string().nullable(),
    media_url: z.string().nullable(),
    status: z.string(),
    status_updated_at: Timestamp.nullable(),
    sent_by: z.string().nullable(),
    attachments: z.array(z.record(z.string(), z.unknown())),
    metadata: z.record(z.string(), z.unknown()),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    provider_timestamp: Timestamp.nullable(),
    quick_reply_id: z.number().int().nullable(),
    created_at: Timestamp,
  })
  .openapi('Message');

export const Template = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    components: z.array(z.unknown()).optional(),
  })
  .openapi('WhatsAppTemplate');

const SendMessage = z
  .object({
    conversation_id: z.number().int().positive(),
    type: MessageType.default('text'),
    content: z.string().max(4096).nullish(),
    media_url: PublicUrl.nullish(),
    media_id: z.number().int().positive().max(2_147_483_647).nullish().openapi({
      description: 'A file uploaded with POST .../media: sent as the provider takes files (422 past its limits)',
    }),
    quick_reply_id: z.number().int().positive().nullish(),
    template: Template.nullish().openapi({ description: 'WhatsApp only: required outside the 24-hour window' }),
  })
  .openapi('SendMessage');

const StatusUpdate = z
  .object({
    status: z.enum(['sent', 'delivered', 'read', 'failed']),
    error: z.object({ code: z.string().max(100), message: z.string().max(1000) }).nullish(),
  })
  .openapi('MessageStatusUpdate');

const tags = ['messages'];
const base = '/api/v1/tenants/{tenant}/communications/messages';

export const messageRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'sendMessage',
      tags,
      security: bearer,
      summary: 'Send a reply: stored as pending and handed to the outbound worker',
      request: { params: TenantParam, body: jsonBody(SendMessage) },
      responses: { 202: jsonResponse(Message, 'Accepted; the message is pending'), ...problems(404, 422) },
    }),
    async (c) => c.json(await sendMessage(c.get('ctx'), c.req.valid('json')), 202),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/conversation/{id}`,
      operationId: 'listConversationMessages',
      tags,
      security: bearer,
      summary: 'Messages of a conversation, newest first (order=asc for oldest first)',
      request: { params: IdParam, query: PageQuery.extend({ order: z.enum(['asc', 'desc']).default('desc') }) },
      responses: { 200: jsonResponse(pageOf(Message, 'MessagePage'), 'A page of messages'), ...problems(404) },
    }),
    async (c) => jsonPageResponse(await listMessages(c.get('ctx'), c.req.valid('param').id, c.req.valid('query'))),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getMessage',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(Message, 'The message'), ...problems(404) },
    }),
    async (c) => c.json(messageView(await findMessage(c.get('ctx'), c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}/status`,
      operationId: 'updateMessageStatus',
      tags,
      security: bearer,
      summary: 'Move the delivery status forward (pending → sent → delivered → read; failed after pending or sent)',
      request: { params: IdParam, body: jsonBody(StatusUpdate) },
      responses: { 200: jsonResponse(Message, 'The message'), ...problems(404, 409) },
    }),
    async (c) => {
      const { status, error } = c.req.valid('json');
      return c.json(await updateMessageStatus(c.get('ctx'), c.req.valid('param').id, status, error), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/retry`,
      operationId: 'retryMessage',
      tags,
      security: bearer,
      summary: 'Send a failed outbound message again',
      request: { params: IdParam },
      responses: { 202: jsonResponse(Message, 'Accepted; the message is pending again'), ...problems(404, 409) },
    }),
    async (c) => c.json(await retryMessage(c.get('ctx'), c.req.valid('param').id), 202),
  );
