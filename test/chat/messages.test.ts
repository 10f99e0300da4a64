// Chat messages over HTTP against the real PostgreSQL: posting and its permissions, client_msg_id retries under races,
// and keyset pages in both directions and around an entry.
import { describe, expect, it } from 'vitest';
import { as, db, recordEvents, schema, send, team, unique, useChatApi, users, warm } from '../support/chat.js';

useChatApi();

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
});

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
    const ch = await as('ana').post('/channels', { name: unique('Pages') });
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
    const ch = await as('ana').post('/channels', { name: unique('Around') });
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
