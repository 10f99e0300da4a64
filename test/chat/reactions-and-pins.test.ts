// Reactions and pins on chat messages over HTTP against the real PostgreSQL: reactions exact under concurrent toggles,
// rendered as {emoji: [user_ids]}, for members only; pins set (not toggled) by moderators and admins.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { as, db, entry, h, schema, send, t, team, tok, useChatApi, users, warm } from '../support/chat.js';

useChatApi();

describe('members, pins, reactions, edits, typing', () => {
  it('reactions: one per user and emoji under concurrent toggles, rendered as {emoji: [user_ids]}', async () => {
    const ch = await as('ana').post('/channels', { name: 'Reactions', type: 'public' });
    await as('bob').post(`/channels/${ch.body.id}/members`, { user_id: users.bob });
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
    expect(removed.body.reactions).toEqual({ '🎉': expect.arrayContaining([users.ana, users.bob]) });
    expect(removed.body.reactions['🎉']).toHaveLength(2);
    const listed = (await as('ana').get(`/chat/channels/${ch.body.id}/messages`)).body.data.find(
      (e: { id: number }) => e.id === msg.body.id,
    );
    expect(listed.reactions['🎉']).toHaveLength(2);
    expect((await as('eve').post(`/chat/messages/${msg.body.id}/reactions`, { emoji: '👀' })).status).toBe(403);
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
