/** Chat channels (DESIGN §6 Chat): create (direct ones deduplicated), list with counts, get, update, archive. */
import { createChannel, deleteChannel, getChannel, listChannels, updateChannel } from '@comms/core/chat';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../lib/env.js';
import {
  bearer,
  jsonBody,
  jsonResponse,
  limitQuery,
  pageOf,
  problems,
  QueryBool,
  TenantParam,
} from '../../lib/openapi.js';
import { Channel, ChannelIdParam, CreateChannel, UpdateChannel } from './schemas.js';

const base = '/api/v1/tenants/{tenant}/communications/channels';
const tags = ['chat channels'];

export const channelRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'createChannel',
      tags,
      security: bearer,
      summary: 'Create a channel (the creator is its admin)',
      description:
        'Public and private channels need a `name`; the `slug` (unique in the tenant, 409 when taken) is derived ' +
        'from it when left out. A direct channel names the other users in `member_ids`: when the same set of users ' +
        '(the creator included) already has one, it is returned with 200 instead of a second being made.',
      request: { params: TenantParam, body: jsonBody(CreateChannel) },
      responses: {
        200: jsonResponse(Channel, 'The direct channel these users already have'),
        201: jsonResponse(Channel, 'The new channel'),
        ...problems(404, 409),
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
      path: base,
      operationId: 'listChannels',
      tags,
      security: bearer,
      summary: "The caller's channels with unread_count and mention_count; discover=true: public ones to join",
      description:
        'Channels the caller is a member of (archived ones left out), by id. With `discover=true`, the public ' +
        'channels the caller is not in, which they may join by adding themselves as a member.',
      request: {
        params: TenantParam,
        query: z.object({
          discover: QueryBool.optional().openapi({ description: 'Public channels the caller could join' }),
          limit: limitQuery(100),
          cursor: z.string().max(500).optional(),
        }),
      },
      responses: { 200: jsonResponse(pageOf(Channel, 'ChannelPage'), 'A page of channels'), ...problems(404) },
    }),
    async (c) => c.json(await listChannels(c.get('ctx'), c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'getChannel',
      tags,
      security: bearer,
      summary: 'A channel, with the caller’s standing in it',
      description: 'Private and direct channels are 404 for non-members. Archived channels stay readable here.',
      request: { params: ChannelIdParam },
      responses: { 200: jsonResponse(Channel, 'The channel'), ...problems(404) },
    }),
    async (c) => c.json(await getChannel(c.get('ctx'), c.req.valid('param').id), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{id}`,
      operationId: 'updateChannel',
      tags,
      security: bearer,
      summary: 'Change a channel (channel admins and tenant admins)',
      request: { params: ChannelIdParam, body: jsonBody(UpdateChannel) },
      responses: { 200: jsonResponse(Channel, 'The channel'), ...problems(404) },
    }),
    async (c) => c.json(await updateChannel(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: 'deleteChannel',
      tags,
      security: bearer,
      summary: 'Archive a channel (channel admins); ?purge=true deletes it with its history (tenant admins)',
      request: {
        params: ChannelIdParam,
        query: z.object({ purge: QueryBool.optional().openapi({ description: 'Delete instead of archiving' }) }),
      },
      responses: { 204: { description: 'Archived, or purged' }, ...problems(404) },
    }),
    async (c) => {
      await deleteChannel(c.get('ctx'), c.req.valid('param').id, c.req.valid('query').purge ?? false);
      return c.body(null, 204);
    },
  );
