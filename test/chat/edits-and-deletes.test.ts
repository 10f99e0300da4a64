// Editing and deleting chat messages over HTTP against the real PostgreSQL: edits by the author with their history,
// soft deletes by author or moderators, and the events an entry's changes publish.
import { describe, expect, it } from 'vitest';
import {
  as,
  db,
  entry,
  h,
  recordEvents,
  schema,
  send,
  t,
  team,
  until,
  useChatApi,
  users,
  warm,
} from '../support/chat.js';

useChatApi();

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
