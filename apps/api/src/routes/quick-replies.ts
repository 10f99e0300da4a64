/** Quick replies (canned responses) (DESIGN §6). */
import {
  createQuickReply,
  deleteQuickReply,
  getQuickReply,
  listQuickReplies,
  updateQuickReply,
  useQuickReply,
} from '@comms/core/inbox';
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
  TenantParam,
  Timestamp,
} from '../lib/openapi.js';
import { Message } from './messages.js';

export const QuickReply = z
  .object({
    id: z.number().int(),
    title: z.string(),
    content: z.string(),
    category: z.string().nullable(),
    language: z.string(),
    shortcuts: z.array(z.string()),
    is_active: z.boolean(),
    usage_count: z.number().int(),
    last_used_at: Timestamp.nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('QuickReply');

const QuickReplyFields = {
  title: z.string().trim().min(1).max(200),
  content: z.string().min(1).max(4096).openapi({ example: 'Hi {{contact_name}}, thanks for writing!' }),
  category: z.string().max(100).nullish(),
  language: z.string().min(2).max(15).optional(),
  shortcuts: z.array(z.string().min(1).max(50)).max(20).optional(),
  is_active: z.boolean().optional(),
};
const CreateQuickReply = z.object(QuickReplyFields).openapi('CreateQuickReply');
const UpdateQuickReply = z.object(QuickReplyFields).partial().strict().openapi('UpdateQuickReply');

const UseQuickReply = z
  .object({
    conversation_id: z
      .number()
      .int()
      .positive()
      .nullish()
      .openapi({ description: 'Also send the rendered reply there' }),
    variables: z.record(z.string(), z.string().max(1000)).optional(),
  })
  .openapi('UseQuickReply');

const QuickReplyUse = z
  .object({
    quick_reply: QuickReply,
    rendered: z.string(),
    missing_variables: z.array(z.string()),
    // A union, not Message.nullable(): on a registered schema the generator writes allOf [Message, object|null],
    // which no null satisfies, so the document said `message` could never be null.
    message: z.union([Message, z.null()]).openapi({ description: 'The reply sent, when a conversation_id was given' }),
  })
  .openapi('QuickReplyUse');

const tags = ['quick replies'];
const base = '/api/v1/tenants/{tenant}/communications/quick-replies';

export const quickReplyRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'createQuickReply',
      tags,
      security: bearer,
      request: { params: TenantParam, body: jsonBody(CreateQuickReply) },
      responses: { 201: jsonResponse(QuickReply, 'The quick reply'), ...problems(404) },
    }),
    async (c) => c.json(await createQuickReply(c.get('ctx'), c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: base,
      operationId: 'listQuickReplies',
      tags,
      security: bearer,
      request: {
        params: TenantParam,
        query: PageQuery.extend({
          category: z.string().max(100).optional(),
          language: z.string().max(15).optional(),
          is_active: QueryBool.optional(),
          q: z.string().trim().min(1).max(200).optional(),
        }),
      },
      responses: {
        200: jsonResponse(pageOf(QuickReply, 'QuickReplyPage'), 'A page of quick replies'),
        ...problems(404),
      },
    }),
    async (c) => c.json(await listQuickReplies(c.get('ctx'), c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getQuickReply',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(QuickReply, 'The quick reply'), ...problems(404) },
    }),
    async (c) => c.json(await getQuickReply(c.get('ctx'), c.req.valid('param').id), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}`,
      operationId: 'updateQuickReply',
      tags,
      security: bearer,
      request: { params: IdParam, body: jsonBody(UpdateQuickReply) },
      responses: { 200: jsonResponse(QuickReply, 'The quick reply'), ...problems(404) },
    }),
    async (c) => c.json(await updateQuickReply(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: 'deleteQuickReply',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...problems(404) },
    }),
    async (c) => {
      await deleteQuickReply(c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/use`,
      operationId: 'useQuickReply',
      tags,
      security: bearer,
      summary:
        'Render the reply ({{contact_name}}, {{first_name}}, … and given variables), count the use, and send it when given conversation_id',
      request: { params: IdParam, body: jsonBody(UseQuickReply) },
      responses: { 200: jsonResponse(QuickReplyUse, 'The rendered reply'), ...problems(404, 422) },
    }),
    async (c) => c.json(await useQuickReply(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  );
