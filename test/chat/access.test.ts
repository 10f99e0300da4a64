// Who may do what in chat, over HTTP against the real PostgreSQL: another tenant's token on every endpoint (403),
// private channels hidden from non-members (404), public channels open to read and join, changes for admins.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { as, call, ids, team, useChatApi, users } from '../support/chat.js';

useChatApi();

describe('who may do what', () => {
  it('answers 403 to a token of another tenant on every chat endpoint', async () => {
    const ch = await team('public');
    const msg = await as('ana').post(`/chat/channels/${ch}/messages`, { content: 'hello' });
    const endpoints: [string, string, unknown?][] = [
      ['POST', '/channels', { name: 'Intruder' }],
      ['GET', '/channels'],
      ['GET', `/channels/${ch}`],
      ['PUT', `/channels/${ch}`, { name: 'x' }],
      ['DELETE', `/channels/${ch}`],
      ['POST', `/channels/${ch}/members`, { user_id: randomUUID() }],
      ['GET', `/channels/${ch}/members`],
      ['PUT', `/channels/${ch}/members/${users.bob}`, { nickname: 'x' }],
      ['DELETE', `/channels/${ch}/members/${users.bob}`],
      ['POST', `/chat/channels/${ch}/messages`, { content: 'x' }],
      ['GET', `/chat/channels/${ch}/messages`],
      ['PUT', `/chat/messages/${msg.body.id}`, { content: 'x' }],
      ['DELETE', `/chat/messages/${msg.body.id}`],
      ['POST', `/chat/messages/${msg.body.id}/pin`, {}],
      ['POST', `/chat/messages/${msg.body.id}/reactions`, { emoji: '👍' }],
      ['DELETE', `/chat/messages/${msg.body.id}/reactions/x`],
      ['GET', `/chat/messages/${msg.body.id}/edits`],
      ['POST', `/chat/channels/${ch}/read`, { entry_id: msg.body.id }],
      ['POST', `/chat/channels/${ch}/typing`, {}],
    ];
    for (const [method, path, body] of endpoints) {
      const res = await call('outsider', method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const still = await as('ana').get(`/chat/channels/${ch}/messages`);
    expect(still.body.data.find((e: { id: number }) => e.id === msg.body.id)).toMatchObject({
      content: 'hello',
      is_deleted: false,
      is_pinned: false,
      reactions: {},
    });
    expect((await as('ana').get(`/channels/${ch}`)).body).toMatchObject({ is_archived: false, member_count: 3 });
  });

  it('hides a private channel from non-members on every endpoint (404), and lets tenant admins in', async () => {
    const ch = await team('private');
    const msg = await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'inside' });
    const endpoints: [string, string, unknown?][] = [
      ['GET', `/channels/${ch}`],
      ['PUT', `/channels/${ch}`, { name: 'x' }],
      ['DELETE', `/channels/${ch}`],
      ['POST', `/channels/${ch}/members`, { user_id: users.eve }],
      ['GET', `/channels/${ch}/members`],
      ['PUT', `/channels/${ch}/members/${users.eve}`, { nickname: 'x' }],
      ['DELETE', `/channels/${ch}/members/${users.eve}`],
      ['POST', `/chat/channels/${ch}/messages`, { content: 'x' }],
      ['GET', `/chat/channels/${ch}/messages`],
      ['PUT', `/chat/messages/${msg.body.id}`, { content: 'x' }],
      ['DELETE', `/chat/messages/${msg.body.id}`],
      ['POST', `/chat/messages/${msg.body.id}/pin`, {}],
      ['POST', `/chat/messages/${msg.body.id}/reactions`, { emoji: '👍' }],
      ['DELETE', `/chat/messages/${msg.body.id}/reactions/x`],
      ['GET', `/chat/messages/${msg.body.id}/edits`],
      ['POST', `/chat/channels/${ch}/read`, { entry_id: msg.body.id }],
      ['POST', `/chat/channels/${ch}/typing`, {}],
    ];
    for (const [method, path, body] of endpoints) {
      const res = await call('eve', method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      // The same answer as for a channel that does not exist.
      expect(res.body.title).toBe('Not Found');
    }
    expect(ids(await as('eve').get('/channels?discover=true&limit=200'))).not.toContain(ch);
    expect((await as('boss').get(`/channels/${ch}`)).body).toMatchObject({ is_member: false, role: null });
    expect((await as('boss').get(`/chat/channels/${ch}/messages`)).status).toBe(200);
    expect((await as('boss').post(`/chat/messages/${msg.body.id}/pin`, {})).body.is_pinned).toBe(true);
    // Tenant admins moderate, but post only once they are members.
    expect((await as('boss').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
  });

  it('lets a public channel be read and joined by anyone in the tenant, and changed by its admins only', async () => {
    const ch = await team('public');
    const msg = await as('ana').post(`/chat/channels/${ch}/messages`, { content: 'welcome' });
    expect((await as('eve').get(`/channels/${ch}`)).body).toMatchObject({ is_member: false, member_count: 3 });
    expect((await as('eve').get(`/chat/channels/${ch}/messages`)).status).toBe(200);
    expect((await as('eve').get(`/channels/${ch}/members`)).body.data).toHaveLength(3);
    expect((await as('eve').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
    expect((await as('eve').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '👋' })).status).toBe(403);
    expect((await as('eve').post(`/chat/channels/${ch}/read`, { entry_id: msg.body.id })).status).toBe(403);
    expect((await as('eve').post(`/chat/channels/${ch}/typing`, {})).status).toBe(403);
    expect((await as('eve').put(`/channels/${ch}`, { name: 'x' })).status).toBe(403);
    expect((await as('eve').post(`/channels/${ch}/members`, { user_id: users.eve, role: 'admin' })).status).toBe(403);
    expect((await as('eve').post(`/channels/${ch}/members`, { user_id: randomUUID() })).status).toBe(403);
    const joined = await as('eve').post(`/channels/${ch}/members`, { user_id: users.eve });
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ channel_id: ch, user_id: users.eve, role: 'member', is_muted: false });
    expect((await as('eve').post(`/channels/${ch}/members`, { user_id: users.eve })).status).toBe(409);
    expect((await as('eve').post(`/chat/channels/${ch}/messages`, { content: 'hi all' })).status).toBe(201);
  });

  it('PUT /channels/{id}: channel admins and tenant admins', async () => {
    const ch = await team('private');
    expect((await as('bob').put(`/channels/${ch}`, { name: 'x' })).status).toBe(403);
    expect((await as('mod').put(`/channels/${ch}`, { name: 'x' })).status).toBe(403);
    const byAdmin = await as('ana').put(`/channels/${ch}`, { name: 'Renamed', topic: 'Q3 fares', description: null });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ name: 'Renamed', topic: 'Q3 fares', description: null, role: 'admin' });
    expect((await as('boss').put(`/channels/${ch}`, { is_read_only: true })).body).toMatchObject({
      name: 'Renamed',
      is_read_only: true,
      is_member: false,
    });
    expect((await as('ana').put(`/channels/${ch}`, { slug: 'nope' })).status).toBe(400);
    expect((await as('ana').put(`/channels/${ch}`, { name: '' })).body.errors[0].field).toBe('name');
    expect((await as('bob').get(`/channels/${ch}`)).body).toMatchObject({ name: 'Renamed', is_read_only: true });
  });
});
