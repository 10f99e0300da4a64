// Read state, unread and mention counts, mentions and typing over HTTP against the real PostgreSQL: counts are
// derived from each member's read marker, so sends, deletes, edits and reads move them exactly.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import {
  as,
  call,
  db,
  h,
  recordEvents,
  schema,
  send as sendEntry,
  t,
  unique,
  useChatApi,
  users,
  type Who,
} from '../support/chat.js';

useChatApi();

/** A public channel of ana (admin) that bob and cid joined. */
async function room() {
  const ch = await call('ana', 'POST', '/channels', { name: unique('Counts') });
  for (const who of ['bob', 'cid'] as const)
    expect((await call(who, 'POST', `/channels/${ch.body.id}/members`, { user_id: users[who] })).status).toBe(201);
  return ch.body.id as number;
}
/** Posts a message as `who` and returns its id. */
const send = async (...args: Parameters<typeof sendEntry>) => (await sendEntry(...args)).id;
/** What the channel list shows `who` for this channel, and what GET /channels/{id} shows: they must agree. */
async function counts(who: Who, channel: number) {
  const listed = (await call(who, 'GET', '/channels?limit=200')).body.data.find(
    (c: { id: number }) => c.id === channel,
  );
  const one = (await call(who, 'GET', `/channels/${channel}`)).body;
  expect({ unread: one.unread_count, mentions: one.mention_count }).toEqual({
    unread: listed.unread_count,
    mentions: listed.mention_count,
  });
  return { unread: listed.unread_count as number, mentions: listed.mention_count as number };
}
const read = (who: Who, channel: number, entryId: number) =>
  call(who, 'POST', `/chat/channels/${channel}/read`, { entry_id: entryId });

describe('messages and read state', () => {
  it('counts unread and mentions through sends, deletes and reads; edits keep history; deletes hide content', async () => {
    const ch = await as('ana').post('/channels', { name: 'Counts', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: users.bob });
    const m1 = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: `hey <@${users.bob}>` });
    const m2 = await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: 'second' });
    await as('ana').post(`/chat/channels/${ch.body.id}/messages`, { content: `ping <@${users.eve}>` }); // users.eve is no member: no mention
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

describe('unread and mention counts', () => {
  it('follow sends, mentions, deletes, edits and reads exactly', async () => {
    const ch = await room();
    // Joining does not make the channel's history unread.
    expect(await counts('bob', ch)).toEqual({ unread: 0, mentions: 0 });

    const m1 = await send('ana', ch, `<@${users.bob}> can you call the Marriott?`);
    const m2 = await send('ana', ch, 'Rates went up 4%');
    const m3 = await send('ana', ch, '@everyone team lunch at 1');
    await send('ana', ch, `<@${users.eve}> FYI`); // eve is no member: nobody is mentioned
    await send('bob', ch, `On it <@${users.bob}>`); // one's own messages and self-mentions never count
    const m6 = await send('ana', ch, 'Quiet heads-up', { mentions: [users.cid, users.eve] });
    expect(await counts('bob', ch)).toEqual({ unread: 5, mentions: 2 });
    expect(await counts('cid', ch)).toEqual({ unread: 6, mentions: 2 });
    expect(await counts('ana', ch)).toEqual({ unread: 1, mentions: 0 });

    // A deleted message leaves both counts at once.
    expect((await call('ana', 'DELETE', `/chat/messages/${m1}`)).status).toBe(204);
    expect(await counts('bob', ch)).toEqual({ unread: 4, mentions: 1 });
    expect(await counts('cid', ch)).toEqual({ unread: 5, mentions: 2 });

    // An edit that names bob adds his mention; an edit never changes unread.
    expect(
      (await call('ana', 'PUT', `/chat/messages/${m2}`, { content: `Rates went up 4% <@${users.bob}>` })).status,
    ).toBe(200);
    expect(await counts('bob', ch)).toEqual({ unread: 4, mentions: 2 });

    // Reading up to m3 leaves what came after it.
    const r = await read('bob', ch, m3);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      channel_id: ch,
      user_id: users.bob,
      last_read_entry_id: m3,
      unread_count: 2,
      mention_count: 0,
    });
    expect(await counts('bob', ch)).toEqual({ unread: 2, mentions: 0 });
    const mentions = await db.query(
      `select entry_id, is_read from "${schema}".mentions where channel_id = $1 and user_id = $2 order by entry_id`,
      [ch, users.bob],
    );
    expect(mentions.rows).toEqual([
      { entry_id: m1, is_read: true },
      { entry_id: m2, is_read: true },
      { entry_id: m3, is_read: true },
    ]);

    // Never back: an older marker keeps the newer one.
    const back = await read('bob', ch, m2);
    expect(back.body.last_read_entry_id).toBe(m3);
    expect(await counts('bob', ch)).toEqual({ unread: 2, mentions: 0 });

    await read('cid', ch, m6);
    expect(await counts('cid', ch)).toEqual({ unread: 0, mentions: 0 });
    const m7 = await send('bob', ch, `<@${users.cid}> done`);
    expect(await counts('cid', ch)).toEqual({ unread: 1, mentions: 1 });
    await call('bob', 'DELETE', `/chat/messages/${m7}`);
    expect(await counts('cid', ch)).toEqual({ unread: 0, mentions: 0 });
  });

  it('are computed for every channel in the list at once', async () => {
    const zed = randomUUID();
    const tz = await h.token({ tenant: t, sub: zed });
    const channels: number[] = [];
    for (let i = 0; i < 6; i++) {
      const ch = await call('ana', 'POST', '/channels', { name: unique('Many') });
      await h.request('POST', api(t, `/channels/${ch.body.id}/members`), { token: tz, body: { user_id: zed } });
      for (let j = 0; j < i; j++) await send('ana', ch.body.id, j === 0 ? `<@${zed}> look` : `note ${j}`);
      channels.push(ch.body.id);
    }
    const list = await h.request('GET', api(t, '/channels'), { token: tz });
    expect(
      list.body.data.map((c: { id: number; unread_count: number; mention_count: number }) => [
        c.id,
        c.unread_count,
        c.mention_count,
      ]),
    ).toEqual(channels.map((id, i) => [id, i, i > 0 ? 1 : 0]));
  });
});

describe('marking read', () => {
  it('needs an entry of the channel and membership', async () => {
    const ch = await room();
    const m1 = await send('ana', ch, 'one');
    const priv = await call('ana', 'POST', '/channels', { name: unique('Private'), type: 'private' });
    const later = await send('ana', priv.body.id, 'newer entry in another channel');
    const past = await read('bob', ch, later);
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ field: 'entry_id', message: 'after the newest entry of this channel' }]);
    for (const body of [{}, { entry_id: 0 }, { entry_id: 'x' }, { entry_id: 99999999999 }]) {
      const res = await call('bob', 'POST', `/chat/channels/${ch}/read`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0].field).toBe('entry_id');
    }
    expect((await read('eve', ch, m1)).status).toBe(403);
    expect((await read('eve', priv.body.id, later)).status).toBe(404);
    expect((await read('outsider', ch, m1)).status).toBe(403);
    const state = await db.query(
      `select last_read_entry_id from "${schema}".channel_members where channel_id = $1 and user_id = $2`,
      [ch, users.bob],
    );
    expect(state.rows[0].last_read_entry_id).toBeLessThan(m1);
  });

  it("publishes read to the reader's own sockets only, and only when the marker moves", async () => {
    const ch = await room();
    const m1 = await send('ana', ch, 'one');
    const m2 = await send('ana', ch, 'two');
    const rec = recordEvents();
    try {
      await read('bob', ch, m2);
      await read('bob', ch, m1);
      await read('bob', ch, m2);
      await new Promise((r) => setTimeout(r, 100));
      expect(rec.of('read')).toHaveLength(1);
      expect(rec.of('read')[0]).toMatchObject({
        channelId: ch,
        userIds: [users.bob],
        data: { channel_id: ch, user_id: users.bob, last_read_entry_id: m2, unread_count: 0, mention_count: 0 },
      });
    } finally {
      rec.off();
    }
  });
});

describe('mentions', () => {
  it('@channel and @here mention every member but the author; each gets mention_created addressed to them', async () => {
    const ch = await room();
    const rec = recordEvents();
    try {
      const m1 = await send('bob', ch, 'Heads up @here: system maintenance tonight');
      await send('bob', ch, 'mail me at bob@channel.example'); // not a mention
      const m3 = await send('ana', ch, `@channel and <@${users.bob}> again`);
      await new Promise((r) => setTimeout(r, 100));
      const rows = await db.query(
        `select entry_id, user_id, mention_type from "${schema}".mentions where channel_id = $1 order by entry_id, user_id`,
        [ch],
      );
      expect(rows.rows).toEqual(
        [
          { entry_id: m1, user_id: users.ana, mention_type: 'here' },
          { entry_id: m1, user_id: users.cid, mention_type: 'here' },
          { entry_id: m3, user_id: users.bob, mention_type: 'channel' },
          { entry_id: m3, user_id: users.cid, mention_type: 'channel' },
        ].sort((a, b) => a.entry_id - b.entry_id || a.user_id.localeCompare(b.user_id)),
      );
      const created = rec.of('mention_created').filter((e) => e.channelId === ch);
      expect(created).toHaveLength(4);
      for (const e of created) {
        const data = e.data as { user_id: string; entry_id: number; channel_id: number };
        expect(e.userIds).toEqual([data.user_id]);
        expect(data.channel_id).toBe(ch);
      }
    } finally {
      rec.off();
    }
  });
});

describe('typing', () => {
  it('publishes an ephemeral typing event at most once per user and channel every 2 s, for members only', async () => {
    const ch = await room();
    const rec = recordEvents();
    try {
      const first = await call('bob', 'POST', `/chat/channels/${ch}/typing`, {});
      expect(first.body).toEqual({ broadcast: true });
      expect((await call('bob', 'POST', `/chat/channels/${ch}/typing`, {})).body).toEqual({ broadcast: false });
      expect((await call('cid', 'POST', `/chat/channels/${ch}/typing`, {})).body).toEqual({ broadcast: true });
      expect((await call('eve', 'POST', `/chat/channels/${ch}/typing`, {})).status).toBe(403);
      expect((await call('outsider', 'POST', `/chat/channels/${ch}/typing`, {})).status).toBe(403);
      await new Promise((r) => setTimeout(r, 2_050));
      expect((await call('bob', 'POST', `/chat/channels/${ch}/typing`, {})).body).toEqual({ broadcast: true });
      const typing = rec.of('typing').filter((e) => e.channelId === ch);
      expect(typing.map((e) => [(e.data as { user_id: string }).user_id, e.ephemeral])).toEqual([
        [users.bob, true],
        [users.cid, true],
        [users.bob, true],
      ]);
      expect(typing[0]!.data).toMatchObject({ channel_id: ch, user_id: users.bob });
    } finally {
      rec.off();
    }
  });
});
