// Team chat REST (first slice): channels, members, entries, read state, against the real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from './support/harness.js';

let h: Harness;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
const eve = randomUUID();
const tok: Record<string, string> = {};

beforeAll(async () => {
  h = await startApi();
  t = await h.createTenant('chat');
  for (const [name, sub] of [
    ['ana', ana],
    ['bob', bob],
    ['eve', eve],
  ] as const)
    tok[name] = await h.token({ tenant: t, sub });
});
afterAll(async () => {
  await h.close();
});

const as = (who: string) => ({
  post: (path: string, body: unknown) => h.request('POST', api(t, path), { token: tok[who], body }),
  get: (path: string) => h.request('GET', api(t, path), { token: tok[who] }),
  put: (path: string, body: unknown) => h.request('PUT', api(t, path), { token: tok[who], body }),
  del: (path: string) => h.request('DELETE', api(t, path), { token: tok[who] }),
});

describe('channels and members', () => {
  it('creates channels (creator admin), refuses a duplicate slug, hides private channels from non-members', async () => {
    const pub = await as('ana').post('/channels', { name: 'Lisbon desk', type: 'public' });
    expect(pub.status).toBe(201);
    expect(pub.body).toMatchObject({ slug: 'lisbon-desk', type: 'public', created_by: ana });
    expect((await as('bob').post('/channels', { name: 'Lisbon desk', type: 'public' })).status).toBe(409);
    const priv = await as('ana').post('/channels', { name: 'Managers', type: 'private' });
    expect((await as('eve').get(`/channels/${priv.body.id}`)).status).toBe(404);
    expect((await as('eve').get(`/channels/${pub.body.id}`)).status).toBe(200);
    const members = await as('ana').get(`/channels/${pub.body.id}/members`);
    expect(members.body.data).toMatchObject([{ user_id: ana, role: 'admin' }]);
    // Anyone joins a public channel; only admins/moderators add others to a private one.
    expect((await as('bob').post(`/channels/${pub.body.id}/members`, { user_id: bob })).status).toBe(201);
    expect((await as('bob').post(`/channels/${priv.body.id}/members`, { user_id: bob })).status).toBe(404);
    expect((await as('ana').post(`/channels/${priv.body.id}/members`, { user_id: bob })).status).toBe(201);
    expect((await as('bob').put(`/channels/${priv.body.id}`, { name: 'x' })).status).toBe(403);
    // Another tenant's token gets 403.
    const other = await h.createTenant('chat-other');
    const stranger = await h.token({ tenant: other });
    expect((await h.request('GET', api(t, `/channels/${pub.body.id}`), { token: stranger })).status).toBe(403);
  });

  it('returns the one direct channel for a set of users, even under 10 concurrent creations', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => as('ana').post('/channels', { type: 'direct', member_ids: [bob] })),
    );
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const fromBob = await as('bob').post('/channels', { type: 'direct', member_ids: [ana] });
    expect(fromBob.status).toBe(200);
    expect(fromBob.body.id).toBe([...ids][0]);
    expect((await as('eve').get(`/channels/${fromBob.body.id}`)).status).toBe(404);
  });

  it('archives a channel (admins), purges it (tenant admins only)', async () => {
    const ch = await as('ana').post('/channels', { name: `Archive ${Date.now()}`, type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: bob });
    expect((await as('bob').del(`/channels/${ch.body.id}`)).status).toBe(403);
    expect((await as('ana').del(`/channels/${ch.body.id}`)).status).toBe(204);
    expect((await as('ana').get(`/channels/${ch.body.id}`)).body.is_archived).toBe(true);
    expect((await as('ana').get('/channels')).body.data.some((c: { id: number }) => c.id === ch.body.id)).toBe(false);
    expect((await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: 'x' })).status).toBe(409);
    expect((await h.request('DELETE', api(t, `/channels/${ch.body.id}?purge=true`), { token: tok.ana })).status).toBe(
      403,
    );
    const admin = await h.token({ tenant: t, role: 'tenant_admin' });
    expect((await h.request('DELETE', api(t, `/channels/${ch.body.id}?purge=true`), { token: admin })).status).toBe(
      204,
    );
    expect((await h.request('GET', api(t, `/channels/${ch.body.id}`), { token: admin })).status).toBe(404);
  });

  it('enforces max_members and read-only channels', async () => {
    const small = await as('ana').post('/channels', { name: 'Tiny', type: 'public', max_members: 2 });
    expect((await as('bob').post(`/channels/${small.body.id}/members`, { user_id: bob })).status).toBe(201);
    expect((await as('eve').post(`/channels/${small.body.id}/members`, { user_id: eve })).status).toBe(409);
    const ro = await as('ana').post('/channels', { name: 'Announcements', type: 'public', is_read_only: true });
    await as('bob').post(`/channels/${ro.body.id}/members`, { user_id: bob });
    expect((await as('bob').post(`/chat/channels/${ro.body.id}/messages`, { content: 'hi' })).status).toBe(403);
    expect(
      (await as('ana').post(`/chat/channels/${ro.body.id}/messages`, { content: 'Office closed Friday' })).status,
    ).toBe(201);
  });
});

describe('messages and read state', () => {
  it('client_msg_id makes a retried send return the first entry', async () => {
    const ch = await as('ana').post('/channels', { name: 'Retry room', type: 'public' });
    const first = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, {
      content: 'once',
      client_msg_id: 'c-1',
    });
    const again = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, {
      content: 'once',
      client_msg_id: 'c-1',
    });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
  });

  it('pages in both directions without gaps or repeats', async () => {
    const ch = await as('ana').post('/channels', { name: 'Pages', type: 'public' });
    const ids: number[] = [];
    for (let i = 0; i < 9; i++)
      ids.push((await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: `m${i}` })).body.id);
    const walk = async (first: string, next: (cursor: string) => string) => {
      const out: number[] = [];
      let res = await as('ana').get(first);
      for (;;) {
        out.push(...res.body.data.map((e: { id: number }) => e.id));
        if (!res.body.next_cursor) return out;
        res = await as('ana').get(next(res.body.next_cursor));
      }
    };
    const base = `/chat/channels/${ch.body.id}/messages?limit=4`;
    const newest = (await walk(base, (c) => `${base}&before=${c}`)).filter((id) => ids.includes(id));
    expect(newest).toEqual([...ids].reverse());
    const oldest = await walk(`${base}&after=0`, (c) => `${base}&after=${c}`);
    expect(oldest.filter((id) => ids.includes(id))).toEqual(ids);
    const around = await as('ana').get(`/chat/channels/${ch.body.id}/messages?around=${ids[4]}&limit=4`);
    expect(around.body.data.map((e: { id: number }) => e.id)).toEqual(ids.slice(2, 6));
    await as('ana').post(`/chat/messages/${ids[3]}/pin`, {});
    const pinned = await as('ana').get(`/chat/channels/${ch.body.id}/messages?pinned=true`);
    expect(pinned.body.data.map((e: { id: number }) => e.id)).toEqual([ids[3]]);
  });

  it('counts unread and mentions through sends, deletes and reads; edits keep history; deletes hide content', async () => {
    const ch = await as('ana').post('/channels', { name: 'Counts', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: bob });
    const m1 = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: `hey <@${bob}>` });
    const m2 = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: 'second' });
    await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: `ping <@${eve}>` }); // eve is no member: no mention
    const counts = async () =>
      (await as('bob').get('/channels')).body.data.find((c: { id: number }) => c.id === ch.body.id);
    expect(await counts()).toMatchObject({ unread_count: 3, mention_count: 1 });
    expect((await as('bob').del(`/chat/messages/${m2.body.id}`)).status).toBe(403);
    expect((await as('ana').del(`/chat/messages/${m2.body.id}`)).status).toBe(204);
    expect(await counts()).toMatchObject({ unread_count: 2, mention_count: 1 });
    const read = await as('bob').post(`/chat/channels/${ch.body.id}/read`, { entry_id: m1.body.id });
    expect(read.body.last_read_entry_id).toBe(m1.body.id);
    expect(await counts()).toMatchObject({ unread_count: 1, mention_count: 0 });
    expect((await as('bob').post(`/chat/channels/${ch.body.id}/read`, { entry_id: 1 })).body.last_read_entry_id).toBe(
      m1.body.id,
    );
    expect((await as('bob').put(`/chat/messages/${m1.body.id}`, { content: 'hijack' })).status).toBe(403);
    const edited = await as('ana').put(`/chat/messages/${m1.body.id}`, { content: 'hey there' });
    expect(edited.body).toMatchObject({ content: 'hey there', is_edited: true });
    const list = (await as('bob').get(`/chat/channels/${ch.body.id}/messages`)).body.data;
    expect(list.find((e: { id: number }) => e.id === m2.body.id)).toMatchObject({ is_deleted: true, content: null });
  });
});

describe('members, pins, reactions, edits, typing', () => {
  it('members change their own settings; only admins change roles; moderators pin', async () => {
    const ch = await as('ana').post('/channels', { name: 'Settings room', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: bob });
    const mine = await as('bob').put(`/channels/${ch.body.id}/members/${bob}`, {
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
    expect((await as('bob').put(`/channels/${ch.body.id}/members/${bob}`, { role: 'admin' })).status).toBe(403);
    const msg = await as('bob').post(`/chat/channels/${ch.body.id}/messages`, { content: 'pin me' });
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, {})).status).toBe(403);
    expect((await as('ana').put(`/channels/${ch.body.id}/members/${bob}`, { role: 'moderator' })).body.role).toBe(
      'moderator',
    );
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, {})).body.is_pinned).toBe(true);
    expect((await as('bob').post(`/chat/messages/${msg.body.id}/pin`, { pinned: false })).body.is_pinned).toBe(false);
  });

  it('reactions: one per user and emoji under concurrent toggles, rendered as {emoji: [user_ids]}', async () => {
    const ch = await as('ana').post('/channels', { name: 'Reactions', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: bob });
    const msg = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: 'Trip booked!' });
    await Promise.all([
      ...Array.from({ length: 10 }, () => as('ana').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '🎉' })),
      ...Array.from({ length: 10 }, () => as('bob').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '🎉' })),
    ]);
    await as('bob').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '👍' });
    const removed = await h.request(
      'DELETE',
      api(t, `/chat/messages/${msg.body.id}/reactions/${encodeURIComponent('👍')}`),
      { token: tok.bob },
    );
    expect(removed.body.reactions).toEqual({ '🎉': expect.arrayContaining([ana, bob]) });
    expect(removed.body.reactions['🎉']).toHaveLength(2);
    const listed = (await as('ana').get(`/chat/channels/${ch.body.id}/messages`)).body.data.find(
      (e: { id: number }) => e.id === msg.body.id,
    );
    expect(listed.reactions['🎉']).toHaveLength(2);
    expect((await as('eve').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '👀' })).status).toBe(403);
  });

  it('keeps the edit history and rate-limits typing (ephemeral bus events)', async () => {
    const ch = await as('ana').post('/channels', { name: 'History', type: 'public' });
    const msg = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: 'v1' });
    await as('ana').put(`/chat/messages/${msg.body.id}`, { content: 'v2' });
    await as('ana').put(`/chat/messages/${msg.body.id}`, { content: 'v3' });
    const edits = await as('ana').get(`/chat/messages/${msg.body.id}/edits`);
    expect(edits.body.data.map((e: { previous_content: string }) => e.previous_content)).toEqual(['v1', 'v2']);
    const events: { type: string; ephemeral?: boolean; channelId?: number }[] = [];
    const off = h.runtime.bus.subscribe((e) => {
      if (e.type === 'typing' && e.tenant === t) events.push(e);
    });
    expect((await as('ana').post(`/chat/channels/${ch.body.id}/typing`, {})).body.broadcast).toBe(true);
    expect((await as('ana').post(`/chat/channels/${ch.body.id}/typing`, {})).body.broadcast).toBe(false);
    off();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ channelId: ch.body.id, ephemeral: true });
    expect((await as('eve').post(`/chat/channels/${ch.body.id}/typing`, {})).status).toBe(403);
  });
});
