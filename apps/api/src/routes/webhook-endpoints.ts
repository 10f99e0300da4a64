/**
 * Outgoing webhooks (issue 15): the tenant admins' endpoints, their delivery log, retry, replay and test event.
 * The signing secret is in the answer to the creation and to a rotation only.
 */
import { Channel } from '@comms/adapter-kit';
import { AppError, EventType, isTenantAdmin } from '@comms/core/platform';
import {
  createEndpoint,
  deleteEndpoint,
  endpointView,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  replayDeliveries,
  retryDelivery,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
  webhookPolicy,
} from '@comms/core/webhooks';
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { type ApiEnv, router } from '../lib/env.js';
import {
  bearer,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageOf,
  problems,
  TenantParam,
  Timestamp,
  text,
} from '../lib/openapi.js';

const EVENT_TYPES_DESCRIPTION =
  'Event types delivered (the realtime vocabulary); null or an empty list: every event. `typing`, `read` and admin ' +
  'notices never leave as webhooks.';
const CHANNELS_DESCRIPTION =
  'Inbox channels whose events are delivered; null or empty: every event. With a filter, events that name no ' +
  'inbox channel (chat events, message status events) are not delivered.';

export const WebhookEndpoint = z
  .object({
    id: z.number().int(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()).nullable().openapi({ description: EVENT_TYPES_DESCRIPTION }),
    channels: z.array(z.string()).nullable().openapi({ description: CHANNELS_DESCRIPTION }),
    enabled: z.boolean(),
    disabled_reason: z
      .string()
      .nullable()
      .openapi({ description: 'Why it was disabled: by an admin, a 410 Gone answer, or 5 days of failures' }),
    previous_secret_expires_at: Timestamp.nullable().openapi({
      description: 'After a rotation: until then the previous secret signs beside the new one',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('WebhookEndpoint');

const WithSecret = WebhookEndpoint.extend({
  secret: z.string().openapi({
    description: 'The signing secret (`whsec_` + base64): shown here once, never returned again',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookEndpointWithSecret');

const Url = text(2048).openapi({
  format: 'uri',
  description:
    'https (http outside production or with WEBHOOK_ALLOW_HTTP); loopback, private, link-local and metadata ' +
    'addresses are refused unless WEBHOOK_ALLOW_PRIVATE',
});
const Fields = {
  description: text(500).nullable().optional(),
  event_types: z.array(EventType).max(50).nullable().optional().openapi({ description: EVENT_TYPES_DESCRIPTION }),
  channels: z.array(Channel).max(20).nullable().optional().openapi({ description: CHANNELS_DESCRIPTION }),
  enabled: z.boolean().optional(),
};
const CreateWebhookEndpoint = z
  .object({ url: Url, ...Fields })
  .strict()
  .openapi('CreateWebhookEndpoint');
const UpdateWebhookEndpoint = z
  .object({ url: Url.optional(), ...Fields })
  .strict()
  .openapi('UpdateWebhookEndpoint');

const Attempt = z
  .object({
    attempted_at: Timestamp,
    status_code: z.number().int().nullable().openapi({ description: 'Null when no answer came' }),
    duration_ms: z.number().int(),
    response_body: z.string().nullable().openapi({ description: 'The first 1 KiB of the answer' }),
    error: z.string().nullable(),
  })
  .openapi('WebhookAttempt');

export const WebhookDelivery = z
  .object({
    id: z.number().int(),
    endpoint_id: z.number().int(),
    event_id: z.string().openapi({ description: 'The `webhook-id` header: the same on every attempt and replay' }),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'The body sent: `{type, timestamp, data}`' }),
    next_attempt_at: Timestamp.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: Timestamp,
    attempts: z.array(Attempt),
  })
  .openapi('WebhookDelivery');

const DeliveryQuery = PageQuery.extend({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  event_type: z.string().max(100).optional(),
});
const ReplayBody = z
  .object({
    since: z.iso.datetime({ offset: true }).openapi({ description: 'Every delivery created at or after this' }),
  })
  .strict()
  .openapi('ReplayWebhookDeliveries');

const adminsOnly: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (!isTenantAdmin(c.get('principal'))) throw new AppError('forbidden', 'only tenant admins manage webhooks');
  await next();
};

const tags = ['webhooks'];
const base = '/api/v1/tenants/{tenant}/communications/webhook-endpoints';
const deliveries = '/api/v1/tenants/{tenant}/communications/webhook-deliveries';

const app = router();
for (const path of ['webhook-endpoints', 'webhook-endpoints/*', 'webhook-deliveries/*'])
  app.use(`/api/v1/tenants/:tenant/communications/${path}`, adminsOnly);

const policyOf = (c: { get(k: 'runtime'): { config: Parameters<typeof webhookPolicy>[0] } }) =>
  webhookPolicy(c.get('runtime').config);

export const webhookEndpointRoutes = app
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'createWebhookEndpoint',
      tags,
      security: bearer,
      request: { params: TenantParam, body: jsonBody(CreateWebhookEndpoint) },
      responses: { 201: jsonResponse(WithSecret, 'The endpoint, with its secret (once)'), ...problems(404, 422) },
    }),
    async (c) => c.json(await createEndpoint(c.get('ctx'), policyOf(c), c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: base,
      operationId: 'listWebhookEndpoints',
      tags,
      security: bearer,
      request: { params: TenantParam, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(WebhookEndpoint, 'WebhookEndpointPage'), 'Endpoints'), ...problems(404) },
    }),
    async (c) => c.json(await listEndpoints(c.get('ctx'), c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getWebhookEndpoint',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(WebhookEndpoint, 'The endpoint'), ...problems(404) },
    }),
    async (c) => c.json(endpointView(await findEndpoint(c.get('ctx'), c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}`,
      operationId: 'updateWebhookEndpoint',
      tags,
      security: bearer,
      request: { params: IdParam, body: jsonBody(UpdateWebhookEndpoint) },
      responses: { 200: jsonResponse(WebhookEndpoint, 'The endpoint'), ...problems(404, 422) },
    }),
    async (c) =>
      c.json(await updateEndpoint(c.get('ctx'), policyOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: 'deleteWebhookEndpoint',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted, with its delivery log' }, ...problems(404) },
    }),
    async (c) => {
      await deleteEndpoint(c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/rotate-secret`,
      operationId: 'rotateWebhookSecret',
      tags,
      security: bearer,
      description:
        'A new secret, shown once. The previous one keeps signing beside it (two signatures in `webhook-signature`) ' +
        'for WEBHOOK_SECRET_OVERLAP_MS (24 h).',
      request: { params: IdParam },
      responses: { 200: jsonResponse(WithSecret, 'The endpoint, with its new secret (once)'), ...problems(404, 409) },
    }),
    async (c) => c.json(await rotateSecret(c.get('ctx'), policyOf(c), c.req.valid('param').id), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/deliveries`,
      operationId: 'listWebhookDeliveries',
      tags,
      security: bearer,
      description:
        'The delivery log, newest first, each delivery with every attempt. Finished (succeeded or failed) deliveries ' +
        'created more than WEBHOOK_RETENTION_DAYS ago (30 by default) are deleted with their attempts; pending ones stay.',
      request: { params: IdParam, query: DeliveryQuery },
      responses: {
        200: jsonResponse(pageOf(WebhookDelivery, 'WebhookDeliveryPage'), 'Deliveries, newest first, with attempts'),
        ...problems(404),
      },
    }),
    async (c) => c.json(await listDeliveries(c.get('ctx'), c.req.valid('param').id, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/replay`,
      operationId: 'replayWebhookDeliveries',
      tags,
      security: bearer,
      description:
        'Sends every delivery created since `since` again, in order, with their original `webhook-id`s. It reaches ' +
        'back as far as the delivery log: WEBHOOK_RETENTION_DAYS (30 days by default).',
      request: { params: IdParam, body: jsonBody(ReplayBody) },
      responses: {
        202: jsonResponse(z.object({ replayed: z.number().int() }).openapi('WebhookReplay'), 'How many are replayed'),
        ...problems(404, 409),
      },
    }),
    async (c) =>
      c.json(await replayDeliveries(c.get('ctx'), c.req.valid('param').id, new Date(c.req.valid('json').since)), 202),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/test`,
      operationId: 'testWebhookEndpoint',
      tags,
      security: bearer,
      description: 'Sends a `webhook.test` event to this endpoint.',
      request: { params: IdParam },
      responses: { 202: jsonResponse(WebhookDelivery, 'The test delivery, queued'), ...problems(404, 409) },
    }),
    async (c) => c.json(await sendTestEvent(c.get('ctx'), c.req.valid('param').id), 202),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: `${deliveries}/{id}/retry`,
      operationId: 'retryWebhookDelivery',
      tags,
      security: bearer,
      description: 'Sends the delivery again now (same `webhook-id`); a finished one starts a new round of retries.',
      request: { params: IdParam },
      responses: { 202: jsonResponse(WebhookDelivery, 'The delivery, queued'), ...problems(404) },
    }),
    async (c) => c.json(await retryDelivery(c.get('ctx'), c.req.valid('param').id), 202),
  );
