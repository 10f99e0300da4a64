/** Channel members (DESIGN §6 Chat): add or join, list, settings and roles, remove or leave. */
import { addMember, listMembers, removeMember, updateMember } from '@comms/core/chat';
import { createRoute } from '@hono/zod-openapi';
import { router } from '../../lib/env.js';
import { bearer, jsonBody, jsonResponse, PageQuery, pageOf, problems } from '../../lib/openapi.js';
import { AddMember, ChannelIdParam, Member, MemberParam, UpdateMember } from './schemas.js';

const base = '/api/v1/tenants/{tenant}/communications/channels/{id}/members';
const tags = ['chat members'];

export const memberRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: base,
      operationId: 'addChannelMember',
      tags,
      security: bearer,
      summary: 'Add a member (admins and moderators), or join a public channel (your own user_id)',
      description:
        'Writes a `join` entry. 409 when the user is already a member, the channel is archived, or it has ' +
        '`max_members` members; 422 for a direct channel, whose members are fixed.',
      request: { params: ChannelIdParam, body: jsonBody(AddMember) },
      responses: { 201: jsonResponse(Member, 'The member'), ...problems(404, 409, 422) },
    }),
    async (c) => c.json(await addMember(c.get('ctx'), c.req.valid('param').id, c.req.valid('json')), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: base,
      operationId: 'listChannelMembers',
      tags,
      security: bearer,
      summary: 'The members, in the order they joined',
      request: { params: ChannelIdParam, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(Member, 'ChannelMemberPage'), 'A page of members'), ...problems(404) },
    }),
    async (c) => c.json(await listMembers(c.get('ctx'), c.req.valid('param').id, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: `${base}/{user_id}`,
      operationId: 'updateChannelMember',
      tags,
      security: bearer,
      summary: 'Your own nickname, mute and notification level; anyone’s (and roles) for channel admins',
      description: 'The last admin of a channel with other members keeps the role (409) until another admin exists.',
      request: { params: MemberParam, body: jsonBody(UpdateMember) },
      responses: { 200: jsonResponse(Member, 'The member'), ...problems(404, 409, 422) },
    }),
    async (c) => {
      const { id, user_id } = c.req.valid('param');
      return c.json(await updateMember(c.get('ctx'), id, user_id, c.req.valid('json')), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{user_id}`,
      operationId: 'removeChannelMember',
      tags,
      security: bearer,
      summary: 'Remove a member (channel admins), or leave (your own user_id)',
      description:
        'Writes a `leave` entry. The last admin of a channel with other members cannot leave (409); a direct ' +
        'channel keeps its members (422).',
      request: { params: MemberParam },
      responses: { 204: { description: 'Removed, or left' }, ...problems(404, 409, 422) },
    }),
    async (c) => {
      const { id, user_id } = c.req.valid('param');
      await removeMember(c.get('ctx'), id, user_id);
      return c.body(null, 204);
    },
  );
