// Chat channels over HTTP against the real PostgreSQL: creation, direct channels under races, listing with discovery,
// archive and purge, and the events each change publishes.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import {
  as,
  db,
  h,
  ids,
  recordEvents,
  schema,
  seq,
  t,
  team,
  tok,
  unique,
  until,
  useChatApi,
  users,
  warm,
} from '../support/chat.js';

useChatApi();

describe('channels and members', () => {
  it('creates channels (creator admin), refuses a duplicate slug, hides private channels from non-members', async () => {
    const pub = await as('ana').post('/channels', { name: 'Lisbon desk', type: 'public' });
    expect(pub.status).toBe(201);
    expect(pub.body).toMatchObject({ slug: 'lisbon-desk', type: 'public', created_by: users.ana });
    expect((await as('bob').post('/channels', { name: 'Lisbon desk', type: 'public' })).status).toBe(409);
    const priv = await as('ana').post('/channels', { name: 'Managers', type: 'private' });
    expect((await as('eve').get(`/channels/${priv.body.id}`)).status).toBe(404);
    expect((await as('eve').get(`/channels/${pub.body.id}`)).status).toBe(200);
    const members = await as('ana').get(`/channels/${pub.body.id}/members`);
    expect(members.body.data).toMatchObject([{ user_id: users.ana, role: 'admin' }]);
    // Anyone joins a public channel; only admins/moderators add others to a private one.
    expect((await as('bob').post(`/channels/${pub.body.id}/members`, { user_id: users.bob })).status).toBe(201);
    expect((await as('bob').post(`/channels/${priv.body.id}/members`, { user_id: users.bob })).status).toBe(404);
    expect((await as('ana').post(`/channels/${priv.body.id}/members`, { user_id: users.bob })).status).toBe(201);
    expect((await as('bob').put(`/channels/${priv.body.id}`, { name: 'x' })).status).toBe(403);
    // Another tenant's token gets 403.
    const other = await h.createTenant('chat-other');
    const stranger = await h.token({ tenant: other });
    expect((await h.request('GET', api(t, `/channels/${pub.body.id}`), { token: stranger })).status).toBe(403);
  });

  it('returns the one direct channel for a set of users, even under 10 concurrent creations', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => as('ana').post('/channels', { type: 'direct', member_ids: [users.bob] })),
    );
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const fromBob = await as('bob').post('/channels', { type: 'direct', member_ids: [users.ana] });
    expect(fromBob.status).toBe(200);
    expect(fromBob.body.id).toBe([...ids][0]);
    expect((await as('eve').get(`/channels/${fromBob.body.id}`)).status).toBe(404);
  });

  it('archives a channel (admins), purges it (tenant admins only)', async () => {
    const ch = await as('ana').post('/channels', { name: `Archive ${Date.now()}`, type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: users.bob });
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
});

describe('creating channels', () => {
  it('makes the creator admin, derives the slug from the name, and answers 409 for a taken slug', async () => {
    const name = unique('Lisbon Desk ✈ Été');
    const res = await as('ana').post('/channels', { name, type: 'public', description: 'Portugal bookings' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name,
      slug: `lisbon-desk-ete-${seq}`,
      type: 'public',
      description: 'Portugal bookings',
      created_by: users.ana,
      is_archived: false,
      is_member: true,
      role: 'admin',
      member_count: 1,
      unread_count: 0,
      mention_count: 0,
    });
    const again = await as('bob').post('/channels', { name, type: 'private' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.errors).toEqual([{ field: 'slug', message: 'taken' }]);
    expect((await as('bob').post('/channels', { name: 'Anything', slug: res.body.slug })).status).toBe(409);

    const given = await as('bob').post('/channels', { name: 'Managers', slug: `mgmt-${seq}`, type: 'private' });
    expect(given.status).toBe(201);
    expect(given.body).toMatchObject({ slug: `mgmt-${seq}`, type: 'private', role: 'admin', created_by: users.bob });
  });

  it('adds initial members, each with a join entry, and keeps history before the join out of unread', async () => {
    const res = await as('ana').post('/channels', {
      name: unique('Kickoff'),
      type: 'private',
      member_ids: [users.bob, users.mod, users.bob],
    });
    expect(res.status).toBe(201);
    expect(res.body.member_count).toBe(3);
    const members = await as('bob').get(`/channels/${res.body.id}/members`);
    expect(members.status).toBe(200);
    expect(
      Object.fromEntries(members.body.data.map((m: { user_id: string; role: string }) => [m.user_id, m.role])),
    ).toEqual({ [users.ana]: 'admin', [users.bob]: 'member', [users.mod]: 'member' });
    const entries = await as('bob').get(`/chat/channels/${res.body.id}/messages`);
    expect(
      entries.body.data.map((e: { entry_type: string; user_id: string }) => [e.entry_type, e.user_id]).sort(),
    ).toEqual(
      [
        ['join', users.ana],
        ['join', users.bob],
        ['join', users.mod],
      ].sort(),
    );
    const mine = await as('bob').get(`/channels/${res.body.id}`);
    expect(mine.body).toMatchObject({ is_member: true, role: 'member', unread_count: 0, mention_count: 0 });
  });

  it('answers 400 naming the field for bad input, before anything is written', async () => {
    const before = await db.query(`select count(*)::int as n from "${schema}".channels`);
    const cases: [unknown, string][] = [
      [{ type: 'public' }, 'name'],
      [{ name: '   ', type: 'public' }, 'name'],
      [{ name: 'x', slug: 'Bad Slug' }, 'slug'],
      [{ name: 'x', type: 'secret' }, 'type'],
      [{ name: 'nul\u0000byte' }, 'name'],
      [{ name: 'x', description: 'a\u0000b' }, 'description'],
      [{ name: 'x', max_members: 1 }, 'max_members'],
      [{ name: 'x', max_members: 2.5 }, 'max_members'],
      [{ name: 'x', member_ids: ['not-a-uuid'] }, 'member_ids.0'],
      [{ name: 'x', is_read_only: 'yes' }, 'is_read_only'],
      [{ type: 'direct' }, 'member_ids'],
      [{ type: 'direct', member_ids: [users.bob], slug: 'dm' }, 'slug'],
      [{ type: 'direct', member_ids: [users.ana] }, 'member_ids'],
    ];
    for (const [body, field] of cases) {
      const res = await as('ana').post('/channels', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.errors.map((e: { field: string }) => e.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const unknown = await as('ana').post('/channels', { name: 'x', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain('colour');
    expect((await as('ana').post('/channels', 'not json')).status).toBe(400);
    expect(
      (await as('ana').post('/channels', { name: 'x', max_members: 2, member_ids: [users.bob, users.eve] })).body,
    ).toMatchObject({ status: 400, errors: [{ field: 'member_ids' }] });
    for (const bad of ['99999999999', 'abc', '0', '-1', '1.5']) {
      const res = await as('ana').get(`/channels/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0].field).toBe('path.id');
    }
    const after = await db.query(`select count(*)::int as n from "${schema}".channels`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('direct channels', () => {
  it('make exactly one channel for a set of users, even when 10 creations race from both sides', async () => {
    const [x, y] = [randomUUID(), randomUUID()];
    // The User Service may spell a UUID in capitals: it is still the same user.
    const tx = await h.token({ tenant: t, sub: x.toUpperCase() });
    const ty = await h.token({ tenant: t, sub: y });
    await warm(10);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? as(tx).post('/channels', { type: 'direct', member_ids: [y] })
          : as(ty).post('/channels', { type: 'direct', member_ids: [x.toUpperCase()] }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const rows = await db.query(`select id, type, direct_key from "${schema}".channels where direct_key = $1`, [
      [x, y].sort().join(','),
    ]);
    expect(rows.rows).toEqual([{ id: results[0]!.body.id, type: 'direct', direct_key: [x, y].sort().join(',') }]);
    const members = await db.query(`select user_id, role from "${schema}".channel_members where channel_id = $1`, [
      results[0]!.body.id,
    ]);
    expect(members.rows.map((r) => r.user_id).sort()).toEqual([x, y].sort());
    expect(members.rows.every((r) => r.role === 'member')).toBe(true);
    expect(results[0]!.body).toMatchObject({ type: 'direct', is_member: true, member_count: 2 });
  });

  it('tell a group apart from its pairs, keep their members fixed, and stay invisible to others', async () => {
    const pair = await as('ana').post('/channels', { type: 'direct', member_ids: [users.bob] });
    const group = await as('bob').post('/channels', { type: 'direct', member_ids: [users.eve, users.ana] });
    const same = await as('eve').post('/channels', { type: 'direct', member_ids: [users.bob, users.ana, users.eve] });
    expect(group.status).toBe(201);
    expect(group.body.id).not.toBe(pair.body.id);
    expect(same.status).toBe(200);
    expect(same.body.id).toBe(group.body.id);
    expect((await as('mod').get(`/channels/${pair.body.id}`)).status).toBe(404);
    expect((await as('mod').post(`/chat/channels/${pair.body.id}/messages`, { content: 'hi' })).status).toBe(404);
    expect((await as('boss').get(`/channels/${pair.body.id}`)).status).toBe(200);
    expect((await as('ana').post(`/channels/${pair.body.id}/members`, { user_id: users.mod })).status).toBe(422);
    expect((await as('ana').del(`/channels/${pair.body.id}/members/${users.ana}`)).status).toBe(422);
    expect((await as('boss').put(`/channels/${pair.body.id}/members/${users.bob}`, { role: 'admin' })).status).toBe(
      422,
    );
  });
});

describe('listing channels', () => {
  it("lists the caller's channels with counts, and with discover=true the public ones they may join", async () => {
    const zed = randomUUID();
    const tz = await h.token({ tenant: t, sub: zed });
    const own = await as(tz).post('/channels', { name: unique('Zed own'), type: 'private' });
    const open = await as('ana').post('/channels', { name: unique('Open'), type: 'public' });
    const hidden = await as('ana').post('/channels', { name: unique('Hidden'), type: 'private' });
    const gone = await as('ana').post('/channels', { name: unique('Gone'), type: 'public' });
    await as('ana').del(`/channels/${gone.body.id}`);

    const mine = await as(tz).get('/channels');
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ next_cursor: null });
    expect(mine.body.data).toEqual([
      expect.objectContaining({ id: own.body.id, is_member: true, role: 'admin', unread_count: 0, mention_count: 0 }),
    ]);
    const discover = await as(tz).get('/channels?discover=true&limit=200');
    const found = ids(discover);
    expect(found).toContain(open.body.id);
    expect(found).not.toContain(hidden.body.id);
    expect(found).not.toContain(own.body.id);
    expect(found).not.toContain(gone.body.id);
    expect(discover.body.data.find((c: { id: number }) => c.id === open.body.id)).toMatchObject({
      is_member: false,
      role: null,
      member_count: 1,
      unread_count: 0,
      mention_count: 0,
    });

    expect((await as(tz).post(`/channels/${open.body.id}/members`, { user_id: zed })).status).toBe(201);
    expect(ids(await as(tz).get('/channels'))).toEqual([own.body.id, open.body.id]);
    expect(ids(await as(tz).get('/channels?discover=true&limit=200'))).not.toContain(open.body.id);
  });

  it('pages by cursor, visiting each channel once', async () => {
    const zoe = randomUUID();
    const tz = await h.token({ tenant: t, sub: zoe });
    const made: number[] = [];
    for (let i = 0; i < 5; i++) made.push((await as(tz).post('/channels', { name: unique('Page') })).body.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(tz).get(`/channels?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made);
    expect((await as(tz).get('/channels?cursor=garbage')).status).toBe(400);
    expect((await as(tz).get('/channels?limit=0')).status).toBe(400);
  });
});

describe('archive and purge', () => {
  it('archives (channel admins): readable, out of the list, closed to writes; purges (tenant admins only)', async () => {
    const ch = await team('public');
    const msg = await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'before the archive' });
    expect((await as('bob').del(`/channels/${ch}`)).status).toBe(403);
    expect((await as('mod').del(`/channels/${ch}`)).status).toBe(403);
    expect((await as('ana').del(`/channels/${ch}`)).status).toBe(204);
    const archived = await as('bob').get(`/channels/${ch}`);
    expect(archived.body).toMatchObject({ is_archived: true });
    expect(archived.body.archived_at).toEqual(expect.any(String));
    expect(ids(await as('bob').get('/channels'))).not.toContain(ch);
    expect(
      (await as('bob').get(`/chat/channels/${ch}/messages`)).body.data.some(
        (e: { id: number }) => e.id === msg.body.id,
      ),
    ).toBe(true);
    expect((await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(409);
    expect((await as('eve').post(`/channels/${ch}/members`, { user_id: users.eve })).status).toBe(409);
    expect((await as('bob').post(`/chat/channels/${ch}/typing`, {})).status).toBe(409);
    expect((await as('bob').put(`/chat/messages/${msg.body.id}`, { content: 'x' })).status).toBe(409);
    expect((await as('ana').del(`/channels/${ch}`)).status).toBe(204);

    expect((await as('ana').del(`/channels/${ch}?purge=true`)).status).toBe(403);
    expect((await as('boss').del(`/channels/${ch}?purge=yes`)).status).toBe(400);
    expect((await as('boss').del(`/channels/${ch}?purge=true`)).status).toBe(204);
    expect((await as('boss').get(`/channels/${ch}`)).status).toBe(404);
    const left = await db.query(`select count(*)::int as n from "${schema}".chat_entries where channel_id = $1`, [ch]);
    expect(left.rows[0].n).toBe(0);
  });
});

describe('events', () => {
  it('publishes channel and membership events with channel_id and user_id, members before the channel', async () => {
    const rec = recordEvents();
    try {
      const ch = await as('ana').post('/channels', {
        name: unique('Evented'),
        type: 'private',
        member_ids: [users.bob],
      });
      const id = ch.body.id as number;
      await as('ana').post(`/channels/${id}/members`, { user_id: users.eve });
      await as('ana').put(`/channels/${id}`, { name: 'Evented, renamed' });
      await as('eve').del(`/channels/${id}/members/${users.eve}`);
      await as('ana').del(`/channels/${id}`);
      await as('boss').del(`/channels/${id}?purge=true`);
      await until(() => rec.of('channel_deleted').length === 2);
      const mine = rec.events.filter((e) => e.channelId === id);
      expect(mine.map((e) => e.type)).toEqual([
        'member_joined',
        'member_joined',
        'channel_created',
        'entry_created',
        'entry_created',
        'member_joined',
        'entry_created',
        'channel_updated',
        'entry_created',
        'member_left',
        'channel_deleted',
        'channel_deleted',
      ]);
      expect(mine.every((e) => (e.data as { channel_id?: number }).channel_id === id)).toBe(true);
      expect(mine.slice(0, 2).map((e) => e.data)).toEqual([
        expect.objectContaining({ channel_id: id, user_id: users.ana, role: 'admin' }),
        expect.objectContaining({ channel_id: id, user_id: users.bob, role: 'member' }),
      ]);
      expect(mine[2]!.data).toMatchObject({ channel_id: id, id, name: ch.body.name, type: 'private' });
      expect(mine[5]!.data).toMatchObject({ channel_id: id, user_id: users.eve, role: 'member', added_by: users.ana });
      expect(mine[6]!.data).toMatchObject({ channel_id: id, entry_type: 'join', user_id: users.eve });
      expect(mine[7]!.data).toMatchObject({ channel_id: id, name: 'Evented, renamed' });
      expect(mine[8]!.data).toMatchObject({ channel_id: id, entry_type: 'leave', user_id: users.eve });
      expect(mine[9]!.data).toEqual({ channel_id: id, user_id: users.eve, removed_by: users.eve });
      expect(mine.slice(10).map((e) => e.data)).toEqual([
        { channel_id: id, purged: false },
        { channel_id: id, purged: true },
      ]);
    } finally {
      rec.off();
    }
  });

  it('announces a direct channel once, however many creations raced', async () => {
    const rec = recordEvents();
    try {
      const other = randomUUID();
      await warm(10);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => as('mod').post('/channels', { type: 'direct', member_ids: [other] })),
      );
      const id = results[0]!.body.id;
      await new Promise((r) => setTimeout(r, 100));
      expect(rec.of('channel_created').filter((e) => e.channelId === id)).toHaveLength(1);
      expect(
        rec
          .of('member_joined')
          .filter((e) => e.channelId === id)
          .map((e) => (e.data as { user_id: string }).user_id)
          .sort(),
      ).toEqual([users.mod, other].sort());
    } finally {
      rec.off();
    }
  });
});
