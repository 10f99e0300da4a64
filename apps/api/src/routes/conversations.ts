/** Inbox conversations (DESIGN §6). */
import {
  archiveConversation,
  assignConversation,
  CONVERSATION_STATUSES,
  conversationView,
  createConversation,
  findConversation,
  listConversations,
  markConversationRead,
  PRIORITIES,
  qualifyConversation,
  updateConversation,
} from '@comms/core/inbox';
import { Channel } from '@comms/adapter-kit';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../lib/env.js';
import {
  bearer,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageOf,
  problems,
  QueryBool,
  queryList,
  TenantParam,
  Timestamp,
  Uuid,
  jsonPageResponse,
} from '../lib/openapi.js';

const Metadata = z.record(z.string(), z.unknown());
const Status = z.enum(CONVERSATION_STATUSES);
const Priority = z.enum(PRIORITIES);
const Tags = z.array(z.string().min(1).max(50)).max(50);

export const Conversation = z
  .object({
    id: z.number().int(),
    external_id: z.string().nullable(),
    channel: z.string(),
    channel_account_id: z.number().int().nullable(),
    contact_name: z.string().nullable(),
    contact_identifier: z.string(),
    contact_metadata: Metadata,
    status: z.string(),
    priority: z.string(),
    is_spam: z.boolean(),
    spam_reason: z.string().nullable(),
    first_message: z.string().nullable(),
    last_message: z.string().nullable(),
    message_count: z.number().int(),
    unread_count: z.number().int(),
    assigned_to: z.string().nullable(),
    assigned_at: Timestamp.nullable(),
    is_lead: z.boolean(),
    lead_id: z.string().nullable(),
    qualified_at: Timestamp.nullable(),
    qualified_by: z.string().nullable(),
    qualification_notes: z.string().nullable(),
    tags: z.array(z.string()),
    platform_metadata: Metadata,
    last_inbound_at: Timestamp.nullable(),
    last_message_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    archived_at: Timestamp.nullable(),
  })
  .openapi('Conversation');

const CreateConversation = z
  .object({
    channel: Channel,
    contact_identifier: z.string().trim().min(1).max(320),
    contact_name: z.string().max(200).nullish(),
    channel_account_id: z.number().int().positive().nullish(),
    external_id: z.string().max(200).nullish(),
    priority: Priority.optional(),
    tags: Tags.optional(),
    contact_metadata: Metadata.optional(),
    platform_metadata: Metadata.optional(),
  })
  .openapi('CreateConversation');

const UpdateConversation = z
  .object({
    contact_name: z.string().max(200).nullish(),
    contact_metadata: Metadata.optional(),
    status: Status.optional(),
    priority: Priority.optional(),
    tags: Tags.optional(),
    is_spam: z.boolean().optional(),
    spam_reason: z.string().max(500).nullish(),
    platform_metadata: Metadata.optional(),
  })
  .strict()
  .openapi('UpdateConversation');

const ListQuery = PageQuery.extend({
  status: queryList([...CONVERSATION_STATUSES])
    .optional()
    .openapi({ description: 'Comma-separated statuses' }),
  channel: queryList(Channel.options as [Channel, ...Channel[]]).optional(),
  priority: queryList([...PRIORITIES]).optional(),
  assigned_to: z
    .union([z.uuid(), z.literal('none')])
    .optional()
    .openapi({ description: 'A user id, or `none` for unassigned' }),
  is_lead: QueryBool.optional(),
  is_spam: QueryBool.optional().openapi({ description: 'Default false: spam is hidden unless asked for' }),
  unread: QueryBool.optional(),
  q: z.string().trim().min(1).max(200).optional().openapi({ description: 'Contact name, identifier or message text' }),
});

const tags = ['conversations'];
const base = '/api/v1/tenants/{tenant}/communications/conversations';

export const conversationRoutes = router()
  .openapi(
    createRoute({
      method: 'get',
      path: base,
      operationId: 'listConversations',
      tags,
      security: bearer,
      summary: 'List conversations, most recent activity first',
      request: { params: TenantParam, query: ListQuery },
      responses: {
        200: jsonResponse(pageOf(Conversation, 'ConversationPage'), 'A page of conversations'),
        ...problems(404),
      },
    }),
    async (c) => jsonPageResponse(await listConversations(c.get('ctx'), c.req.valid('query'))),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'createConversation',
      tags,
      security: bearer,
      request: { params: TenantParam, body: jsonBody(CreateConversation) },
      responses: { 201: jsonResponse(Conversation, 'The conversation'), ...problems(404, 409, 422) },
    }),
    async (c) => c.json(await createConversation(c.get('ctx'), c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getConversation',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(Conversation, 'The conversation'), ...problems(404) },
    }),
    async (c) => c.json(conversationView(await findConversation(c.get('ctx'), c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}`,
      operationId: 'updateConversation',
      tags,
      security: bearer,
      summary: 'Update status, priority, tags, contact details or spam marking',
      request: { params: IdParam, body: jsonBody(UpdateConversation) },
      responses: { 200: jsonResponse(Conversation, 'The updated conversation'), ...problems(404, 409) },
    }),
    async (c) => c.json(await updateConversation(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/assign`,
      operationId: 'assignConversation',
      tags,
      security: bearer,
      request: {
        params: IdParam,
        body: jsonBody(z.object({ user_id: Uuid.nullable() }).openapi('AssignConversation')),
      },
      responses: { 200: jsonResponse(Conversation, 'The conversation'), ...problems(404) },
    }),
    async (c) =>
      c.json(await assignConversation(c.get('ctx'), c.req.valid('param').id, c.req.valid('json').user_id), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/qualify`,
      operationId: 'qualifyConversation',
      tags,
      security: bearer,
      summary: 'Mark the conversation as a qualified lead',
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .object({
              lead_id: z.union([z.string().min(1).max(100), z.number().int()]).nullish(),
              notes: z.string().max(5000).nullish(),
            })
            .openapi('QualifyConversation'),
        ),
      },
      responses: { 200: jsonResponse(Conversation, 'The conversation'), ...problems(404, 409) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const leadId = body.lead_id == null ? body.lead_id : String(body.lead_id);
      return c.json(
        await qualifyConversation(c.get('ctx'), c.req.valid('param').id, { lead_id: leadId, notes: body.notes }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/read`,
      operationId: 'markConversationRead',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(Conversation, 'The conversation, unread_count 0'), ...problems(404) },
    }),
    async (c) => c.json(await markConversationRead(c.get('ctx'), c.req.valid('param').id), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: 'archiveConversation',
      tags,
      security: bearer,
      summary: 'Archive (nothing is erased)',
      request: { params: IdParam },
      responses: { 200: jsonResponse(Conversation, 'The archived conversation'), ...problems(404) },
    }),
    async (c) => c.json(await archiveConversation(c.get('ctx'), c.req.valid('param').id), 200),
  );
