// Chat channel members over HTTP against the real PostgreSQL: who adds whom with which role, member settings,
// leaving and removing, the last admin under concurrency, max_members under concurrency and read-only channels.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { as, h, t, team, unique, useChatApi, users, warm } from '../support/chat.js';

useChatApi();

describe('channels and members', () => {
  it('enforces max_members and read-only channels', async () => {
    const small = await as('ana').post('/channels', { name: 'Tiny', type: 'public', max_members: 2 });
    expect((await as('bob').post(`/channels/${small.body.id}/members`, { user_id: users.bob })).status).toBe(201);
    expect((await as('eve').post(`/channels/${small.body.id}/members`, { user_id: users.eve })).status).toBe(409);
    const ro = await as('ana').post('/channels', { name: 'Announcements', type: 'public', is_read_only: true });
    await as('bob').post(`/channels/${ro.body.id}/members`, { user_id: users.bob });
    expect((await as('bob').post(`/chat/channels/${ro.body.id}/messages`, { content: 'hi' })).status).toBe(403);
    expect(
      (await as('ana').post(`/chat/channels/${ro.body.id}/messages`, { content: 'Office closed Friday' })).status,
    ).toBe(201);
  });
});

describe('members, pins, reactions, edits, typing', () => {
  it('members change their own settings; only admins change roles; moderators pin', async () => {
    const ch = await as('ana').post('/channels', { name: 'Settings room', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: users.bob });
    const mine = await as('bob').put(`/channels/${ch.body.id}/members/${users.bob}`, {
      nickname: 'Bobby',
      is_muted: true,
      notification_level: 'mentions',
    });
    expect(mine.body).toMatchObject({
      nickname: 'Bobby',
      is_muted: true,
      notification_level: 'mentions',
      role: 'member',
    });
    expect((await as('bob').put(`/channels/${ch.body.id}/members/${users.bob}`, { role: 'admin' })).status).toBe(403);
    // An empty body changes nothing and says so with the member as they are (it was a 500: found by the fuzzer).
    const unchanged = await as('bob').put(`/channels/${ch.body.id}/members/${users.bob}`, {});
    expect(unchanged.status).toBe(200);
    expect(unchanged.body).toMatchObject({ nickname: 'Bobby', is_muted: true, role: 'member' });
    expect((await as('ana').put(`/channels/${ch.body.id}/members/${randomUUID()}`, {})).status).toBe(404);
    const msg = await as('bob').post(`/chat/channels/${ch.body.id}/messages`, { content: 'pin me' });
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, {})).status).toBe(403);
    expect((await as('ana').put(`/channels/${ch.body.id}/members/${users.bob}`, { role: 'moderator' })).body.role).toBe(
      'moderator',
    );
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, {})).body.is_pinned).toBe(true);
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, { pinned: false })).body.is_pinned).toBe(false);
  });
});

describe('who may do what', () => {
  it('adding members: admins and moderators add, only admins give roles', async () => {
    const ch = await team('private');
    const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()];
    expect((await as('bob').post(`/channels/${ch}/members`, { user_id: u1 })).status).toBe(403);
    expect((await as('mod').post(`/channels/${ch}/members`, { user_id: u1, role: 'moderator' })).status).toBe(403);
    expect((await as('mod').post(`/channels/${ch}/members`, { user_id: u1 })).body.role).toBe('member');
    expect((await as('ana').post(`/channels/${ch}/members`, { user_id: u2, role: 'moderator' })).body.role).toBe(
      'moderator',
    );
    expect((await as('boss').post(`/channels/${ch}/members`, { user_id: u3, role: 'admin' })).body.role).toBe('admin');
    expect((await as('ana').post(`/channels/${ch}/members`, { user_id: u1 })).status).toBe(409);
    expect((await as('ana').post(`/channels/${ch}/members`, { user_id: 'nope' })).body.errors[0].field).toBe('user_id');
    expect((await as('ana').post(`/channels/${ch}/members`, { user_id: u1, role: 'owner' })).body.errors[0].field).toBe(
      'role',
    );
    const list = await as('bob').get(`/channels/${ch}/members?limit=2`);
    expect(list.body.data).toHaveLength(2);
    const rest = await as('bob').get(`/channels/${ch}/members?limit=10&cursor=${list.body.next_cursor}`);
    expect([...list.body.data, ...rest.body.data].map((m: { user_id: string }) => m.user_id)).toEqual([
      users.ana,
      users.mod,
      users.bob,
      u1,
      u2,
      u3,
    ]);
    expect(rest.body.next_cursor).toBeNull();
    expect((await as('bob').get(`/channels/${ch}/members?cursor=bad`)).status).toBe(400);
  });

  it('member settings: your own for anyone, anyone’s and roles for admins', async () => {
    const ch = await team('public');
    const own = await as('bob').put(`/channels/${ch}/members/${users.bob}`, {
      nickname: 'Bobby',
      is_muted: true,
      notification_level: 'mentions',
    });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      nickname: 'Bobby',
      is_muted: true,
      notification_level: 'mentions',
      role: 'member',
    });
    expect((await as('bob').put(`/channels/${ch}/members/${users.bob}`, { role: 'admin' })).status).toBe(403);
    expect((await as('bob').put(`/channels/${ch}/members/${users.mod}`, { nickname: 'x' })).status).toBe(403);
    expect((await as('mod').put(`/channels/${ch}/members/${users.bob}`, { role: 'moderator' })).status).toBe(403);
    expect((await as('ana').put(`/channels/${ch}/members/${users.bob}`, { role: 'moderator' })).body.role).toBe(
      'moderator',
    );
    expect((await as('boss').put(`/channels/${ch}/members/${users.bob}`, { nickname: null })).body).toMatchObject({
      nickname: null,
      role: 'moderator',
      is_muted: true,
    });
    expect((await as('ana').put(`/channels/${ch}/members/${users.eve}`, { nickname: 'x' })).status).toBe(404);
    expect(
      (await as('bob').put(`/channels/${ch}/members/${users.bob}`, { notification_level: 'loud' })).body.errors[0]
        .field,
    ).toBe('notification_level');
    expect((await as('bob').put(`/channels/${ch}/members/not-a-uuid`, {})).body.errors[0].field).toBe('path.user_id');
  });

  it('removing members: admins remove, anyone leaves; a leave entry records it', async () => {
    const ch = await team('public');
    expect((await as('bob').del(`/channels/${ch}/members/${users.mod}`)).status).toBe(403);
    expect((await as('mod').del(`/channels/${ch}/members/${users.bob}`)).status).toBe(403);
    expect((await as('ana').del(`/channels/${ch}/members/${users.bob}`)).status).toBe(204);
    expect((await as('ana').del(`/channels/${ch}/members/${users.bob}`)).status).toBe(404);
    expect((await as('mod').del(`/channels/${ch}/members/${users.mod}`)).status).toBe(204);
    const left = await as('ana').get(`/chat/channels/${ch}/messages`);
    expect(
      left.body.data.slice(0, 2).map((e: { entry_type: string; user_id: string }) => [e.entry_type, e.user_id]),
    ).toEqual([
      ['leave', users.mod],
      ['leave', users.bob],
    ]);
    expect((await as('ana').get(`/channels/${ch}`)).body.member_count).toBe(1);
    expect((await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
  });

  it('keeps an admin: the last one cannot leave or step down while others remain, even when two race', async () => {
    const ch = await team('public');
    expect((await as('ana').del(`/channels/${ch}/members/${users.ana}`)).status).toBe(409);
    expect((await as('ana').put(`/channels/${ch}/members/${users.ana}`, { role: 'member' })).status).toBe(409);
    expect((await as('ana').put(`/channels/${ch}/members/${users.mod}`, { role: 'admin' })).status).toBe(200);
    // Two admins leaving at once: exactly one may go.
    await warm(2);
    const both = await Promise.all([
      as('ana').del(`/channels/${ch}/members/${users.ana}`),
      as('mod').del(`/channels/${ch}/members/${users.mod}`),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([204, 409]);
    const members = (await as('bob').get(`/channels/${ch}/members`)).body.data;
    expect(members.filter((m: { role: string }) => m.role === 'admin')).toHaveLength(1);
    expect(members).toHaveLength(2);
    // Alone, the admin may leave.
    const alone = await as('eve').post('/channels', { name: unique('Solo') });
    expect((await as('eve').del(`/channels/${alone.body.id}/members/${users.eve}`)).status).toBe(204);
  });
});

describe('limits', () => {
  it('max_members holds when six users join at once', async () => {
    const ch = await as('ana').post('/channels', { name: unique('Tiny'), max_members: 3 });
    const tokens = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const sub = randomUUID();
        return { sub, token: await h.token({ tenant: t, sub }) };
      }),
    );
    await warm(6);
    const joiners = await Promise.all(
      tokens.map(({ sub, token }) => as(token).post(`/channels/${ch.body.id}/members`, { user_id: sub })),
    );
    expect(joiners.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    expect((await as('ana').get(`/channels/${ch.body.id}`)).body.member_count).toBe(3);
    expect((await as('ana').post(`/channels/${ch.body.id}/members`, { user_id: users.bob })).status).toBe(409);
    // Raising the ceiling lets one more in.
    await as('ana').put(`/channels/${ch.body.id}`, { max_members: 4 });
    expect((await as('ana').post(`/channels/${ch.body.id}/members`, { user_id: users.bob })).status).toBe(201);
  });

  it('read-only channels take posts (and typing) from admins and moderators only', async () => {
    const ch = await team('public', { is_read_only: true });
    expect((await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'can I?' })).status).toBe(403);
    expect((await as('bob').post(`/chat/channels/${ch}/typing`, {})).status).toBe(403);
    expect((await as('mod').post(`/chat/channels/${ch}/messages`, { content: 'Fares update' })).status).toBe(201);
    expect((await as('ana').post(`/chat/channels/${ch}/messages`, { content: 'Office closed Friday' })).status).toBe(
      201,
    );
    const entries = await as('bob').get(`/chat/channels/${ch}/messages`);
    expect(entries.body.data.filter((e: { entry_type: string }) => e.entry_type === 'message')).toHaveLength(2);
    await as('ana').put(`/channels/${ch}`, { is_read_only: false });
    expect((await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'now I can' })).status).toBe(201);
  });
});
