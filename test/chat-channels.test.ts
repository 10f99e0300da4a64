// Chat channels and members over HTTP against the real PostgreSQL: creation, direct channels under races,
// listing with discovery, who may do what, max_members and the last admin under concurrency, archive and purge,
// and the events each change publishes.
import { randomUUID } from 'node:crypto';
import type { PublishedEvent } from '@comms/core/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './support/env.js';
import { api, type Harness, startApi } from './support/harness.js';

let h: Harness;
let t: string;
let db: pg.Client;
let schema: string;
const users = {
  ana: randomUUID(),
  mod: randomUUID(),
  bob: randomUUID(),
  eve: randomUUID(),
  boss: randomUUID(),
};
type Who = keyof typeof users | 'outsider';
const tok = {} as Record<Who, string>;

beforeAll(async () => {
  h = await startApi();
  t = await h.createTenant('chat-ch');
  schema = `tenant_${t.replaceAll('-', '_')}`;
  for (const [name, sub] of Object.entries(users))
    tok[name as Who] = await h.token({ tenant: t, sub, role: name === 'boss' ? 'tenant_admin' : 'tenant_user' });
  tok.outsider = await h.token({ tenant: await h.createTenant('chat-ch-other'), role: 'tenant_admin' });
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

const call = (who: Who | string, method: string, path: string, body?: unknown) =>
  h.request(method, api(t, path), { token: tok[who as Who] ?? who, body });
const as = (who: Who | string) => ({
  post: (path: string, body: unknown = {}) => call(who, 'POST', path, body),
  get: (path: string) => call(who, 'GET', path),
  put: (path: string, body: unknown) => call(who, 'PUT', path, body),
  del: (path: string) => call(who, 'DELETE', path),
});
let seq = 0;
const unique = (name: string) => `${name} ${++seq}`;

/** A channel with ana as admin, mod as moderator and bob as member. */
async function team(type: 'public' | 'private', extra: Record<string, unknown> = {}) {
  const ch = await as('ana').post('/channels', { name: unique(`Team ${type}`), type, ...extra });
  expect(ch.status).toBe(201);
  const id = ch.body.id as number;
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.mod, role: 'moderator' })).status).toBe(201);
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.bob })).status).toBe(201);
  return id;
}

/** Opens n connections first, so concurrent requests reach the server together instead of as connections open. */
const warm = (n: number) => Promise.all(Array.from({ length: n }, () => h.request('GET', '/health')));

function recordEvents() {
  const events: PublishedEvent[] = [];
  const off = h.runtime.bus.subscribe((e) => {
    if (e.tenant === t) events.push(e);
  });
  return { events, off, of: (type: string) => events.filter((e) => e.type === type) };
}

async function until(fn: () => boolean, ms = 3_000) {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

const ids = (res: { body: { data: { id: number }[] } }) => res.body.data.map((x) => x.id);

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

describe('OpenAPI', () => {
  it('documents every chat route with an operationId, its bodies, and problem responses', async () => {
    const doc = await h.request('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    const chat = Object.entries(doc.body.paths as Record<string, Record<string, any>>).filter(([path]) =>
      /\/communications\/(channels|chat)\b/.test(path),
    );
    const operations = chat.flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.map((o) => o.op.operationId).sort()).toEqual(
      [
        'addChannelMember',
        'addChatReaction',
        'createChannel',
        'deleteChannel',
        'deleteChatMessage',
        'editChatMessage',
        'getChannel',
        'listChannelMembers',
        'listChannels',
        'listChatMessageEdits',
        'listChatMessages',
        'markChatChannelRead',
        'pinChatMessage',
        'postChatMessage',
        'removeChannelMember',
        'removeChatReaction',
        'sendChatTyping',
        'updateChannel',
        'updateChannelMember',
      ].sort(),
    );
    for (const { path, method, op } of operations) {
      for (const status of ['400', '401', '403', '404'])
        expect(
          op.responses[status]?.content?.['application/problem+json'],
          `${method} ${path} ${status}`,
        ).toBeDefined();
      if (['post', 'put'].includes(method) && !path.endsWith('/typing'))
        expect(op.requestBody?.content?.['application/json']?.schema, `${method} ${path}`).toBeDefined();
    }
  });
});
