/** Channel accounts: the tenant's provider connections; credentials are write-only (DESIGN Appendix A). */
import {
  channelAccountView,
  createChannelAccount,
  deleteChannelAccount,
  findChannelAccount,
  listChannelAccounts,
  updateChannelAccount,
} from '@comms/core/inbox';
import { AppError, isTenantAdmin } from '@comms/core/platform';
import { Channel, EmailTransport } from '@comms/adapter-kit';
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
} from '../lib/openapi.js';

const SANDBOX_DESCRIPTION =
  'A sandbox account (what `npm run simulate` makes) never reaches its provider: replies through it go to the ' +
  "service's built-in sandbox transport, which answers like the provider (a provider-shaped id, `sent`) and posts the " +
  "provider's own signed `delivered` and `read` status webhooks back through the gateway. Honoured only while the " +
  'service runs with `SANDBOX_TRANSPORT` on (the default on embedded defaults, refused in production); otherwise ' +
  'replies through a sandbox account fail at once with `sandbox_disabled`. A sandbox `email` account also takes the ' +
  'credential `event_private_key` (base64 PKCS#8 DER, the private half of its `event_public_key`) to sign the events.';

const TRANSPORT_DESCRIPTION =
  'Email accounts only: how their mail travels, `sendgrid` (the default; credentials `api_key`, `from_email`, ' +
  '`inbound_token`, `event_public_key`) or `ses` (Amazon SES; credentials `access_key_id` and `secret_access_key`, ' +
  "falling back to the service's AWS credentials, and the `ses` settings). Conversations stay `channel: email` " +
  'whichever transport carried them. Null for other providers.';

const SES_DESCRIPTION =
  'Amazon SES settings of an `ses` account (not secret). SNS notifications are accepted at ' +
  '`POST /webhooks/{tenant}/ses` only from the topics listed in `sns_topic_arns`.';

const Address = z.string().max(320).openapi({ example: 'support@inbound.acme.example' });
const SesSettingsBody = z
  .object({
    region: z.string().openapi({ description: 'The SES region (`eu-west-1`)', example: 'eu-west-1' }),
    from_email: Address.nullish().openapi({
      description: "The verified identity replies are sent from; the account's identifier when absent",
    }),
    configuration_set: z
      .string()
      .nullish()
      .openapi({ description: 'The configuration set used for sending; its SNS event destination posts the statuses' }),
    inbound_addresses: z.array(Address).optional().openapi({
      description: "Inbound addresses besides the account's identifier, received by the same receipt rule",
    }),
    sns_topic_arns: z.array(z.string()).openapi({
      description: 'SNS topics (receipt rule action, configuration set event destination) the account accepts',
      example: ['arn:aws:sns:eu-west-1:123456789012:acme-ses'],
    }),
  })
  .openapi('SesSettings', { description: SES_DESCRIPTION });

export const ChannelAccount = z
  .object({
    id: z.number().int(),
    provider: z.string(),
    name: z.string(),
    identifier: z.string(),
    credentials: z
      .array(z.string())
      .openapi({ description: 'Names of the credentials that are set; values are never returned' }),
    status: z.string(),
    settings: z.record(z.string(), z.unknown()),
    sandbox: z.boolean().openapi({ description: SANDBOX_DESCRIPTION }),
    transport: EmailTransport.nullable().openapi({ description: TRANSPORT_DESCRIPTION }),
    ses: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description: `${SES_DESCRIPTION} Null unless the transport is \`ses\`; \`unsubscribed_topics\` records topics SNS confirmed unsubscribing.`,
      }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('ChannelAccount');

const Secret = z.string().min(1).max(4096);
const CreateChannelAccount = z
  .object({
    provider: Channel,
    name: z.string().trim().min(1).max(200),
    identifier: z.string().trim().min(1).max(320),
    credentials: z.record(z.string(), Secret).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    sandbox: z
      .boolean()
      .optional()
      .openapi({ description: `Default false. ${SANDBOX_DESCRIPTION}` }),
    transport: EmailTransport.optional().openapi({ description: TRANSPORT_DESCRIPTION }),
    ses: SesSettingsBody.optional(),
  })
  .openapi('CreateChannelAccount');

const UpdateChannelAccount = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    identifier: z.string().trim().min(1).max(320).optional(),
    credentials: z
      .record(z.string(), Secret.nullable())
      .optional()
      .openapi({ description: 'Merged into the stored credentials; null removes one' }),
    status: z.enum(['active', 'disabled']).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    sandbox: z
      .boolean()
      .optional()
      .openapi({ description: 'See ChannelAccount.sandbox; leaving the sandbox drops `event_private_key`' }),
    transport: EmailTransport.optional().openapi({
      description: "Changing it drops the other transport's credentials",
    }),
    ses: SesSettingsBody.partial()
      .nullable()
      .optional()
      .openapi({ description: 'Merged into the stored SES settings' }),
  })
  .strict()
  .openapi('UpdateChannelAccount');

/** Provider connections and their secrets are the tenant admins' business. */
const adminsOnly: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (!isTenantAdmin(c.get('principal'))) throw new AppError('forbidden', 'only tenant admins manage channel accounts');
  await next();
};

const tags = ['channel accounts'];
const base = '/api/v1/tenants/{tenant}/communications/channel-accounts';

const app = router();
app.use('/api/v1/tenants/:tenant/communications/channel-accounts', adminsOnly);
app.use('/api/v1/tenants/:tenant/communications/channel-accounts/*', adminsOnly);

export const channelAccountRoutes = app
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'createChannelAccount',
      tags,
      security: bearer,
      request: { params: TenantParam, body: jsonBody(CreateChannelAccount) },
      responses: { 201: jsonResponse(ChannelAccount, 'The account, credentials by name only'), ...problems(404, 409) },
    }),
    async (c) => c.json(await createChannelAccount(c.get('ctx'), c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: base,
      operationId: 'listChannelAccounts',
      tags,
      security: bearer,
      request: { params: TenantParam, query: PageQuery.extend({ provider: Channel.optional() }) },
      responses: {
        200: jsonResponse(pageOf(ChannelAccount, 'ChannelAccountPage'), 'A page of accounts'),
        ...problems(404),
      },
    }),
    async (c) => c.json(await listChannelAccounts(c.get('ctx'), c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getChannelAccount',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 200: jsonResponse(ChannelAccount, 'The account'), ...problems(404) },
    }),
    async (c) => c.json(channelAccountView(await findChannelAccount(c.get('ctx'), c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}`,
      operationId: 'updateChannelAccount',
      tags,
      security: bearer,
      request: { params: IdParam, body: jsonBody(UpdateChannelAccount) },
      responses: { 200: jsonResponse(ChannelAccount, 'The account'), ...problems(404, 409) },
    }),
    async (c) => c.json(await updateChannelAccount(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: 'deleteChannelAccount',
      tags,
      security: bearer,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted; webhooks for it are no longer accepted' }, ...problems(404) },
    }),
    async (c) => {
      await deleteChannelAccount(c.get('ctx'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
