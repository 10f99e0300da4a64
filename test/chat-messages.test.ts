// Chat messages over HTTP against the real PostgreSQL: posting and its permissions, client_msg_id retries under
// races, keyset pages in both directions and around an entry, pins, edits with history, soft deletes,
// reactions under concurrent toggles, and the events each publishes.
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
const users = { ana: randomUUID(), mod: randomUUID(), bob: randomUUID(), eve: randomUUID(), boss: randomUUID() };
type Who = keyof typeof users | 'outsider';
const tok = {} as Record<Who, string>;

beforeAll(async () => {
  h = await startApi();
  t = await h.createTenant('chat-msg');
  schema = `tenant_${t.replaceAll('-', '_')}`;
  for (const [name, sub] of Object.entries(users))
    tok[name as Who] = await h.token({ tenant: t, sub, role: name === 'boss' ? 'tenant_admin' : 'tenant_user' });
  tok.outsider = await h.token({ tenant: await h.createTenant('chat-msg-other') });
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

/** A channel with ana as admin, mod as moderator and bob as member. */
async function team(type: 'public' | 'private' = 'public') {
  const ch = await as('ana').post('/channels', { name: `Room ${++seq}`, type });
  const id = ch.body.id as number;
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.mod, role: 'moderator' })).status).toBe(201);
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.bob })).status).toBe(201);
  return id;
}
const send = async (who: Who, channel: number, content: string, extra: Record<string, unknown> = {}) => {
  const res = await as(who).post(`/chat/channels/${channel}/messages`, { content, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; [k: string]: unknown };
};
const entry = async (who: Who, channel: number, id: number) =>
  (await as(who).get(`/chat/channels/${channel}/messages?around=${id}&limit=1`)).body.data[0];

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

describe('posting', () => {
  it('renders the message with its attachments, and refuses what is malformed with 400 naming the field', async () => {
    const ch = await team();
    const file = {
      file_id: 'f_123',
      url: 'https://files.example.com/f_123/itinerary.pdf',
      name: 'itinerary.pdf',
      size: 48213,
      mime_type: 'application/pdf',
    };
    const res = await as('bob').post(`/chat/channels/${ch}/messages`, {
      content: 'Itinerary attached',
      attachments: [file],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      channel_id: ch,
      user_id: users.bob,
      entry_type: 'message',
      content: 'Itinerary attached',
      attachments: [file],
      reply_to_id: null,
      is_edited: false,
      is_deleted: false,
      is_pinned: false,
      reactions: {},
    });
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
    expect((await as('bob').post(`/chat/channels/${ch}/messages`, { attachments: [file] })).status).toBe(201);

    const cases: [unknown, string][] = [
      [{}, 'content'],
      [{ content: '   ' }, 'content'],
      [{ content: 'x'.repeat(10_001) }, 'content'],
      [{ content: 'nul \u0000' }, 'content'],
      [{ content: 'x', attachments: [{ ...file, url: 'not a url' }] }, 'attachments.0.url'],
      [{ content: 'x', attachments: [{ ...file, size: -1 }] }, 'attachments.0.size'],
      [{ content: 'x', attachments: [{ ...file, mime_type: 'pdf' }] }, 'attachments.0.mime_type'],
      [{ content: 'x', attachments: [{ file_id: 'f' }] }, 'attachments.0.url'],
      [{ content: 'x', attachments: 'file' }, 'attachments'],
      [{ content: 'x', reply_to_id: 'one' }, 'reply_to_id'],
      [{ content: 'x', reply_to_id: 99999999999 }, 'reply_to_id'],
      [{ content: 'x', client_msg_id: '' }, 'client_msg_id'],
      [{ content: 'x', mentions: ['bob'] }, 'mentions.0'],
    ];
    for (const [body, field] of cases) {
      const bad = await as('bob').post(`/chat/channels/${ch}/messages`, body);
      expect(bad.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const stored = await db.query(
      `select count(*)::int as n from "${schema}".chat_entries where channel_id = $1 and entry_type = 'message'`,
      [ch],
    );
    expect(stored.rows[0].n).toBe(2);
  });

  it('replies only to an entry of the same channel', async () => {
    const ch = await team();
    const elsewhere = await send('ana', await team(), 'in another room');
    const parent = await send('ana', ch, 'Who takes the Porto group?');
    const reply = await send('bob', ch, 'Me', { reply_to_id: parent.id });
    expect(reply.reply_to_id).toBe(parent.id);
    const wrong = await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'x', reply_to_id: elsewhere.id });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ field: 'reply_to_id', message: 'not an entry of this channel' }]);
  });

  it('lets members post; non-members of a public channel, and unknown channels, are refused', async () => {
    const ch = await team();
    expect((await as('eve').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
    expect((await as('boss').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
    expect((await as('outsider').post(`/chat/channels/${ch}/messages`, { content: 'x' })).status).toBe(403);
    expect((await as('ana').post('/chat/channels/2147483647/messages', { content: 'x' })).status).toBe(404);
    for (const who of ['ana', 'mod', 'bob'] as const) await send(who, ch, `from ${who}`);
  });
});

describe('client_msg_id', () => {
  it('returns the first entry for a retry (200), per user and channel', async () => {
    const ch = await team();
    const first = await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'once', client_msg_id: 'c-1' });
    const again = await as('bob').post(`/chat/channels/${ch}/messages`, { content: 'once!', client_msg_id: 'c-1' });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toEqual(first.body);
    // The same client id from someone else, or in another channel, is another message.
    const other = await as('ana').post(`/chat/channels/${ch}/messages`, { content: 'mine', client_msg_id: 'c-1' });
    expect(other.status).toBe(201);
    const ch2 = await team();
    expect(
      (await as('bob').post(`/chat/channels/${ch2}/messages`, { content: 'x', client_msg_id: 'c-1' })).status,
    ).toBe(201);
  });

  it('makes one entry when 10 retries of a send race', async () => {
    const ch = await team();
    const rec = recordEvents();
    try {
      await warm(10);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          as('bob').post(`/chat/channels/${ch}/messages`, { content: 'race', client_msg_id: 'race-1' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      const rows = await db.query(
        `select id from "${schema}".chat_entries where channel_id = $1 and client_msg_id = 'race-1'`,
        [ch],
      );
      expect(rows.rows).toEqual([{ id: results[0]!.body.id }]);
      await new Promise((r) => setTimeout(r, 100));
      expect(rec.of('entry_created').filter((e) => e.channelId === ch)).toHaveLength(1);
    } finally {
      rec.off();
    }
  });
});

describe('pages', () => {
  it('walks newest first and oldest first over every entry exactly once, and turns back without gaps', async () => {
    const ch = await as('ana').post('/channels', { name: `Pages ${++seq}` });
    const id = ch.body.id as number;
    const all = [(await as('ana').get(`/chat/channels/${id}/messages`)).body.data[0].id as number]; // the join
    for (let i = 0; i < 23; i++) all.push((await send('ana', id, `m${i}`)).id);
    await as('ana').del(`/chat/messages/${all[7]}`); // a deleted entry keeps its place
    const base = `/chat/channels/${id}/messages?limit=5`;

    const walk = async (first: string, param: 'before' | 'after') => {
      const seen: number[] = [];
      const pages: any[] = [];
      let res = await as('bob').get(first);
      for (;;) {
        expect(res.status).toBe(200);
        pages.push(res.body);
        seen.push(...res.body.data.map((e: { id: number }) => e.id));
        if (!res.body.next_cursor) return { seen, pages };
        res = await as('bob').get(`${base}&${param}=${res.body.next_cursor}`);
      }
    };
    const down = await walk(base, 'before');
    expect(down.seen).toEqual([...all].reverse());
    expect(down.pages.map((p) => p.data.length)).toEqual([5, 5, 5, 5, 4]);
    expect(down.pages.every((p) => p.order === 'newest_first')).toBe(true);
    expect(down.pages[0].newer_cursor).toBeNull();
    expect(down.pages.at(-1).older_cursor).toBeNull();
    const up = await walk(`${base}&after=0`, 'after');
    expect(up.seen).toEqual(all);
    expect(up.pages.every((p) => p.order === 'oldest_first')).toBe(true);
    expect(up.pages[0].older_cursor).toBeNull();
    expect(up.pages.at(-1).newer_cursor).toBeNull();
    expect(down.seen.find((x) => x === all[7])).toBeDefined();

    // From the third page going down, turn back up: the entries just newer than it, oldest first.
    const third = down.pages[2];
    const back = await as('bob').get(`${base}&after=${third.newer_cursor}`);
    expect(back.body.data.map((e: { id: number }) => e.id)).toEqual([...all].reverse().slice(5, 10).reverse());
    // From the third page going up, turn back down.
    const third2 = up.pages[2];
    const down2 = await as('bob').get(`${base}&before=${third2.older_cursor}`);
    expect(down2.body.data.map((e: { id: number }) => e.id)).toEqual(all.slice(5, 10).reverse());

    const deleted = down.pages.flatMap((p) => p.data).find((e: { id: number }) => e.id === all[7]);
    expect(deleted).toMatchObject({ is_deleted: true, content: null, attachments: [], reactions: {} });
  });

  it('shows an entry with its neighbours (around), oldest first, with cursors on both sides', async () => {
    const ch = await as('ana').post('/channels', { name: `Around ${++seq}` });
    const id = ch.body.id as number;
    const all = [(await as('ana').get(`/chat/channels/${id}/messages`)).body.data[0].id as number];
    for (let i = 0; i < 12; i++) all.push((await send('ana', id, `a${i}`)).id);
    const around = await as('ana').get(`/chat/channels/${id}/messages?around=${all[6]}&limit=5`);
    expect(around.body.data.map((e: { id: number }) => e.id)).toEqual(all.slice(4, 9));
    expect(around.body).toMatchObject({
      order: 'oldest_first',
      older_cursor: String(all[4]),
      newer_cursor: String(all[8]),
      next_cursor: String(all[8]),
    });
    const older = await as('ana').get(`/chat/channels/${id}/messages?before=${around.body.older_cursor}&limit=10`);
    expect(older.body.data.map((e: { id: number }) => e.id)).toEqual(all.slice(0, 4).reverse());
    // Near an end the other side fills the page.
    const start = await as('ana').get(`/chat/channels/${id}/messages?around=${all[0]}&limit=4`);
    expect(start.body.data.map((e: { id: number }) => e.id)).toEqual(all.slice(0, 4));
    expect(start.body.older_cursor).toBeNull();
    const end = await as('ana').get(`/chat/channels/${id}/messages?around=${all[12]}&limit=4`);
    expect(end.body.data.map((e: { id: number }) => e.id)).toEqual(all.slice(9, 13));
    expect(end.body.newer_cursor).toBeNull();

    const other = await send('ana', await team(), 'elsewhere');
    expect((await as('ana').get(`/chat/channels/${id}/messages?around=${other.id}`)).status).toBe(404);
    const both = await as('ana').get(`/chat/channels/${id}/messages?before=${all[5]}&after=${all[1]}`);
    expect(both.status).toBe(400);
    expect(both.body.errors[0].field).toBe('query.after');
    const last = await as('ana').get(`/chat/channels/${id}/messages?after=2147483647`);
    expect(last.body).toMatchObject({ data: [], older_cursor: '2147483648', newer_cursor: null, next_cursor: null });
    const beyond = await as('ana').get(`/chat/channels/${id}/messages?after=${all[12]}`);
    expect(beyond.body).toMatchObject({ data: [], older_cursor: String(all[12]! + 1), newer_cursor: null });
    const older2 = await as('ana').get(`/chat/channels/${id}/messages?before=${beyond.body.older_cursor}&limit=2`);
    expect(older2.body.data.map((e: { id: number }) => e.id)).toEqual([all[12], all[11]]);
    for (const q of [
      'limit=0',
      'limit=201',
      'before=0',
      'before=x',
      'after=-1',
      'around=99999999999',
      'pinned=maybe',
    ]) {
      const res = await as('ana').get(`/chat/channels/${id}/messages?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.errors[0].field, q).toBe(`query.${q.split('=')[0]}`);
    }
  });
});

describe('pins', () => {
  it('moderators and admins pin and unpin (setting the state, not toggling); pinned=true lists them', async () => {
    const ch = await team();
    const a = await send('bob', ch, 'Visa rules for Brazil');
    const b = await send('bob', ch, 'Office wifi password rotates Mondays');
    const c = await send('bob', ch, 'Chit-chat');
    expect((await as('bob').post(`/chat/messages/${a.id}/pin`, {})).status).toBe(403);
    expect((await as('eve').post(`/chat/messages/${a.id}/pin`, {})).status).toBe(403);
    const pinned = await as('mod').post(`/chat/messages/${a.id}/pin`, {});
    expect(pinned.body).toMatchObject({ id: a.id, is_pinned: true, pinned_by: users.mod });
    expect((await as('mod').post(`/chat/messages/${a.id}/pin`, { pinned: true })).body.is_pinned).toBe(true);
    expect((await as('ana').post(`/chat/messages/${b.id}/pin`, { pinned: true })).body.is_pinned).toBe(true);
    const noBody = await h.request('POST', api(t, `/chat/messages/${c.id}/pin`), { token: tok.boss });
    expect(noBody.body.is_pinned).toBe(true);
    expect((await as('ana').post(`/chat/messages/${c.id}/pin`, { pinned: false })).body).toMatchObject({
      is_pinned: false,
      pinned_by: null,
    });
    expect((await as('ana').post(`/chat/messages/${c.id}/pin`, { pinned: 'yes' })).body.errors[0].field).toBe('pinned');
    const list = await as('eve').get(`/chat/channels/${ch}/messages?pinned=true`);
    expect(list.body.data.map((e: { id: number }) => e.id)).toEqual([b.id, a.id]);
    // A deleted message loses its pin.
    await as('bob').del(`/chat/messages/${b.id}`);
    expect(
      (await as('eve').get(`/chat/channels/${ch}/messages?pinned=true`)).body.data.map((e: { id: number }) => e.id),
    ).toEqual([a.id]);
    expect((await as('ana').post(`/chat/messages/${b.id}/pin`, {})).status).toBe(409);
  });
});

describe('edits', () => {
  it('lets the author edit, keeps every earlier version, and shows is_edited, edited_at, edited_by', async () => {
    const ch = await team();
    const msg = await send('bob', ch, 'Flight at 9');
    for (const who of ['ana', 'mod', 'eve', 'boss'] as const)
      expect((await as(who).put(`/chat/messages/${msg.id}`, { content: 'hijack' })).status, who).toBe(403);
    expect((await as('bob').put(`/chat/messages/${msg.id}`, { content: 'Flight at 10' })).status).toBe(200);
    const edited = await as('bob').put(`/chat/messages/${msg.id}`, { content: 'Flight at 10:30' });
    expect(edited.body).toMatchObject({ content: 'Flight at 10:30', is_edited: true, edited_by: users.bob });
    expect(Date.parse(edited.body.edited_at)).toBeGreaterThanOrEqual(Date.parse(msg.created_at as string));
    const history = await as('eve').get(`/chat/messages/${msg.id}/edits`);
    expect(history.status).toBe(200);
    expect(
      history.body.data.map((e: { previous_content: string; edited_by: string }) => [e.previous_content, e.edited_by]),
    ).toEqual([
      ['Flight at 9', users.bob],
      ['Flight at 10', users.bob],
    ]);
    expect((await entry('ana', ch, msg.id)).content).toBe('Flight at 10:30');
    expect((await as('bob').put(`/chat/messages/${msg.id}`, { content: ' ' })).body.errors[0].field).toBe('content');
    expect((await as('bob').put(`/chat/messages/${msg.id}`, {})).body.errors[0].field).toBe('content');
    const join = (await as('bob').get(`/chat/channels/${ch}/messages?after=0&limit=1`)).body.data[0];
    expect(join.entry_type).toBe('join');
    expect((await as('ana').put(`/chat/messages/${join.id}`, { content: 'x' })).status).toBe(422);
    expect((await as('bob').put('/chat/messages/2147483647', { content: 'x' })).status).toBe(404);
    // After leaving, the author no longer edits there.
    await as('bob').del(`/channels/${ch}/members/${users.bob}`);
    expect((await as('bob').put(`/chat/messages/${msg.id}`, { content: 'x' })).status).toBe(403);
  });

  it('knows the author whatever the case of the token’s sub', async () => {
    const ch = await team();
    const upper = await h.token({ tenant: t, sub: users.bob.toUpperCase() });
    const msg = await as(upper).post(`/chat/channels/${ch}/messages`, { content: 'shouting id' });
    expect(msg.status).toBe(201);
    expect(msg.body.user_id).toBe(users.bob);
    expect((await as('bob').put(`/chat/messages/${msg.body.id}`, { content: 'calm id' })).status).toBe(200);
    expect((await as(upper).put(`/chat/messages/${msg.body.id}`, { content: 'again' })).status).toBe(200);
    expect((await as(upper).get(`/channels/${ch}`)).body).toMatchObject({ is_member: true, role: 'member' });
  });

  it('records what each of several racing edits replaced', async () => {
    const ch = await team();
    const msg = await send('bob', ch, 'v0');
    await warm(5);
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => as('bob').put(`/chat/messages/${msg.id}`, { content: `v${i + 1}` })),
    );
    const history = (await as('bob').get(`/chat/messages/${msg.id}/edits`)).body.data.map(
      (e: { previous_content: string }) => e.previous_content,
    );
    const final = (await entry('bob', ch, msg.id)).content;
    // A chain: each edit replaced the version before it, and none was lost.
    expect(history).toHaveLength(5);
    expect(history[0]).toBe('v0');
    expect(new Set([...history, final]).size).toBe(6);
  });
});

describe('deletes', () => {
  it('are soft, by the author, a moderator, an admin or a tenant admin; the content is gone from reads', async () => {
    const ch = await team();
    const file = { file_id: 'f', url: 'https://files.example.com/f', name: 'f.png', size: 1, mime_type: 'image/png' };
    const mine = await send('bob', ch, 'oops', { attachments: [file] });
    const anas = await send('ana', ch, 'from ana');
    const mods = await send('mod', ch, 'from mod');
    const third = await send('ana', ch, 'third');
    await as('ana').post(`/chat/messages/${mine.id}/reactions`, { emoji: '😅' });
    await as('bob').put(`/chat/messages/${mine.id}`, { content: 'oops, edited' });
    expect((await as('bob').del(`/chat/messages/${anas.id}`)).status).toBe(403);
    expect((await as('eve').del(`/chat/messages/${anas.id}`)).status).toBe(403);
    expect((await as('bob').del(`/chat/messages/${mine.id}`)).status).toBe(204);
    expect((await as('mod').del(`/chat/messages/${anas.id}`)).status).toBe(204);
    expect((await as('ana').del(`/chat/messages/${mods.id}`)).status).toBe(204);
    expect((await as('boss').del(`/chat/messages/${third.id}`)).status).toBe(204);
    expect((await as('bob').del(`/chat/messages/${mine.id}`)).status).toBe(204);
    const gone = await entry('eve', ch, mine.id);
    expect(gone).toMatchObject({
      id: mine.id,
      user_id: users.bob,
      is_deleted: true,
      content: null,
      attachments: [],
      reactions: {},
    });
    expect((await as('eve').get(`/chat/messages/${mine.id}/edits`)).body.data).toEqual([]);
    expect((await as('bob').put(`/chat/messages/${mine.id}`, { content: 'back' })).status).toBe(409);
    expect((await as('ana').post(`/chat/messages/${mine.id}/reactions`, { emoji: '👍' })).status).toBe(409);
    // Kept for the record, not erased.
    const row = await db.query(`select content, deleted_by from "${schema}".chat_entries where id = $1`, [mine.id]);
    expect(row.rows[0]).toEqual({ content: 'oops, edited', deleted_by: users.bob });
    const join = (await as('bob').get(`/chat/channels/${ch}/messages?after=0&limit=1`)).body.data[0];
    expect((await as('ana').del(`/chat/messages/${join.id}`)).status).toBe(422);
  });
});

describe('reactions', () => {
  it('settle exactly under 20 concurrent toggles by different users and by the same user', async () => {
    const ch = await team();
    const msg = await send('ana', ch, 'Group to Madeira confirmed!');
    const crowd = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const sub = randomUUID();
        const token = await h.token({ tenant: t, sub });
        expect((await as(token).post(`/channels/${ch}/members`, { user_id: sub })).status).toBe(201);
        return { sub, token };
      }),
    );
    await warm(40);
    const adds = await Promise.all([
      ...crowd.map((u) => as(u.token).post(`/chat/messages/${msg.id}/reactions`, { emoji: '🎉' })),
      ...Array.from({ length: 20 }, () => as('bob').post(`/chat/messages/${msg.id}/reactions`, { emoji: '👍' })),
    ]);
    expect(adds.every((r) => r.status === 200)).toBe(true);
    let shown = (await entry('eve', ch, msg.id)).reactions;
    expect(Object.keys(shown).sort()).toEqual(['🎉', '👍'].sort());
    expect([...shown['🎉']].sort()).toEqual(crowd.map((u) => u.sub).sort());
    expect(shown['👍']).toEqual([users.bob]);

    const leaving = crowd.slice(0, 10);
    await warm(30);
    const removals = await Promise.all([
      ...leaving.map((u) => as(u.token).del(`/chat/messages/${msg.id}/reactions/${encodeURIComponent('🎉')}`)),
      ...Array.from({ length: 20 }, () =>
        as('bob').del(`/chat/messages/${msg.id}/reactions/${encodeURIComponent('👍')}`),
      ),
    ]);
    expect(removals.every((r) => r.status === 200)).toBe(true);
    shown = (await entry('eve', ch, msg.id)).reactions;
    expect(Object.keys(shown)).toEqual(['🎉']);
    expect([...shown['🎉']].sort()).toEqual(
      crowd
        .slice(10)
        .map((u) => u.sub)
        .sort(),
    );
    const rows = await db.query(
      `select emoji, count(*)::int as n from "${schema}".chat_reactions where entry_id = $1 group by 1`,
      [msg.id],
    );
    expect(rows.rows).toEqual([{ emoji: '🎉', n: 10 }]);
  });

  it('are for members, one emoji at a time; the response shows the whole map', async () => {
    const ch = await team('private');
    const msg = await send('ana', ch, 'Lunch?');
    const added = await as('bob').post(`/chat/messages/${msg.id}/reactions`, { emoji: ':taco:' });
    expect(added.body).toEqual({ entry_id: msg.id, channel_id: ch, reactions: { ':taco:': [users.bob] } });
    expect((await as('mod').post(`/chat/messages/${msg.id}/reactions`, { emoji: ':taco:' })).body.reactions).toEqual({
      ':taco:': [users.bob, users.mod],
    });
    expect((await as('eve').post(`/chat/messages/${msg.id}/reactions`, { emoji: '👀' })).status).toBe(404);
    for (const emoji of ['', 'two words', 'x'.repeat(65)]) {
      const res = await as('bob').post(`/chat/messages/${msg.id}/reactions`, { emoji });
      expect(res.status, emoji).toBe(400);
      expect(res.body.errors[0].field).toBe('emoji');
    }
    // Taking back a reaction one never gave changes nothing.
    const none = await as('ana').del(`/chat/messages/${msg.id}/reactions/${encodeURIComponent(':taco:')}`);
    expect(none.body.reactions).toEqual({ ':taco:': [users.bob, users.mod] });
  });
});

describe('events', () => {
  it('publishes entry, reaction and mention events with channelId and snake_case data', async () => {
    const ch = await team();
    const rec = recordEvents();
    try {
      const msg = await send('ana', ch, `<@${users.bob}> can you check the Faro transfer?`);
      await as('bob').post(`/chat/messages/${msg.id}/reactions`, { emoji: '👍' });
      await as('bob').del(`/chat/messages/${msg.id}/reactions/${encodeURIComponent('👍')}`);
      await as('ana').put(`/chat/messages/${msg.id}`, { content: 'Faro transfer: done' });
      await as('mod').post(`/chat/messages/${msg.id}/pin`, {});
      await as('mod').del(`/chat/messages/${msg.id}`);
      await until(() => rec.of('entry_deleted').length === 1);
      const mine = rec.events.filter((e) => e.channelId === ch);
      expect(mine.map((e) => e.type)).toEqual([
        'entry_created',
        'mention_created',
        'reaction_added',
        'reaction_removed',
        'entry_edited',
        'entry_edited',
        'entry_deleted',
      ]);
      expect(mine.every((e) => (e.data as { channel_id?: number }).channel_id === ch)).toBe(true);
      expect(mine[0]!.data).toMatchObject({
        id: msg.id,
        user_id: users.ana,
        content: msg.content,
        entry_type: 'message',
      });
      expect(mine[1]).toMatchObject({
        userIds: [users.bob],
        data: { channel_id: ch, entry_id: msg.id, user_id: users.bob, mentioned_by: users.ana, mention_type: 'user' },
      });
      expect(mine[2]!.data).toEqual({
        channel_id: ch,
        entry_id: msg.id,
        user_id: users.bob,
        emoji: '👍',
        reactions: { '👍': [users.bob] },
      });
      expect(mine[3]!.data).toMatchObject({ entry_id: msg.id, user_id: users.bob, emoji: '👍', reactions: {} });
      expect(mine[4]!.data).toMatchObject({ id: msg.id, content: 'Faro transfer: done', is_edited: true });
      expect(mine[5]!.data).toMatchObject({ id: msg.id, is_pinned: true, pinned_by: users.mod });
      expect(mine[6]!.data).toMatchObject({ id: msg.id, entry_id: msg.id, channel_id: ch, deleted_by: users.mod });
      // Repeats change nothing and announce nothing.
      const count = rec.events.length;
      await as('mod').del(`/chat/messages/${msg.id}`);
      await as('bob').del(`/chat/messages/${msg.id}/reactions/${encodeURIComponent('👍')}`);
      await new Promise((r) => setTimeout(r, 100));
      expect(rec.events.length).toBe(count);
    } finally {
      rec.off();
    }
  });
});
