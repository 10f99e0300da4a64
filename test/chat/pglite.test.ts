// Team chat on the embedded PGlite database (what `npm start` uses without DATABASE_URL): the row locks,
// conflict handling and count queries the chat relies on work there too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startApi({ env: { DATABASE_URL: undefined, PGLITE_DIR: 'memory://' } });
});
afterAll(async () => {
  await h?.close();
});

describe('chat on PGlite', () => {
  it('channels, racing direct creations and retries, max_members, counts and reads', async () => {
    expect(h.runtime.database.kind).toBe('pglite');
    const t = await h.createTenant('chat-pgl');
    const [ana, bob] = [randomUUID(), randomUUID()];
    const tok = { ana: await h.token({ tenant: t, sub: ana }), bob: await h.token({ tenant: t, sub: bob }) };
    const call = (who: 'ana' | 'bob', method: string, path: string, body?: unknown) =>
      h.request(method, api(t, path), { token: tok[who], body });

    const ch = await call('ana', 'POST', '/channels', { name: 'Embedded', max_members: 2 });
    expect(ch.status).toBe(201);
    expect((await call('bob', 'POST', `/channels/${ch.body.id}/members`, { user_id: bob })).status).toBe(201);
    const sub = randomUUID();
    const third = await h.token({ tenant: t, sub });
    const full = await h.request('POST', api(t, `/channels/${ch.body.id}/members`), {
      token: third,
      body: { user_id: sub },
    });
    expect(full.status).toBe(409);
    expect((await h.request('GET', api(t, `/channels/${ch.body.id}`), { token: third })).body.member_count).toBe(2);

    const dms = await Promise.all(
      Array.from({ length: 5 }, () => call('ana', 'POST', '/channels', { type: 'direct', member_ids: [bob] })),
    );
    expect(dms.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(dms.map((r) => r.body.id)).size).toBe(1);

    const sends = await Promise.all(
      Array.from({ length: 5 }, () =>
        call('ana', 'POST', `/chat/channels/${ch.body.id}/messages`, { content: `<@${bob}> hi`, client_msg_id: 'k' }),
      ),
    );
    expect(sends.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const m2 = await call('ana', 'POST', `/chat/channels/${ch.body.id}/messages`, { content: 'second' });
    const listed = async () =>
      (await call('bob', 'GET', '/channels')).body.data.find((c: { id: number }) => c.id === ch.body.id);
    expect(await listed()).toMatchObject({ unread_count: 2, mention_count: 1 });
    const read = await call('bob', 'POST', `/chat/channels/${ch.body.id}/read`, { entry_id: sends[0]!.body.id });
    expect(read.body).toMatchObject({ unread_count: 1, mention_count: 0 });
    await call('ana', 'DELETE', `/chat/messages/${m2.body.id}`);
    expect(await listed()).toMatchObject({ unread_count: 0, mention_count: 0 });
    expect((await call('ana', 'DELETE', `/channels/${ch.body.id}/members/${ana}`)).status).toBe(409);
  });
});
