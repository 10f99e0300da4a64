// The same services on the embedded PGlite database (what `npm start` uses without DATABASE_URL).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startApi({ env: { DATABASE_URL: undefined, PGLITE_DIR: 'memory://' } });
});
afterAll(async () => {
  await h.close();
});

describe('inbox on PGlite', () => {
  it('runs on the embedded database', () => {
    expect(h.runtime.database.kind).toBe('pglite');
    expect(h.runtime.queues.kind).toBe('in-process');
  });

  it('provisions tenants, refuses duplicates and keeps them apart', async () => {
    const a = await h.createTenant('pgl');
    const b = await h.createTenant('pgl');
    expect((await h.request('POST', '/api/v1/tenants', { body: { slug: a, name: 'again' } })).status).toBe(409);
    const tokA = await h.token({ tenant: a });
    expect((await h.request('GET', api(b, '/conversations'), { token: tokA })).status).toBe(403);
  });

  it('conversations, replies, forward-only status, quick replies and pagination', async () => {
    const t = await h.createTenant('pgl');
    const tok = await h.token({ tenant: t, sub: randomUUID() });
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await h.request('POST', api(t, '/conversations'), {
        token: tok,
        body: { channel: 'email', contact_identifier: `c${i}@example.com`, contact_name: `C ${i}` },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    expect(
      (
        await h.request('POST', api(t, '/conversations'), {
          token: tok,
          body: { channel: 'email', contact_identifier: 'c0@example.com' },
        })
      ).status,
    ).toBe(409);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.request('GET', api(t, `/conversations?limit=5${cursor ? `&cursor=${cursor}` : ''}`), {
        token: tok,
      });
      seen.push(...page.body.data.map((c: { id: number }) => c.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort((x, y) => x - y)).toEqual(ids);

    const msg = await h.request('POST', api(t, '/messages'), {
      token: tok,
      body: { conversation_id: ids[0], content: 'Hello from PGlite' },
    });
    expect(msg.status).toBe(202);
    expect(
      (await h.request('PUT', api(t, `/messages/${msg.body.id}/status`), { token: tok, body: { status: 'delivered' } }))
        .body.status,
    ).toBe('delivered');
    expect(
      (await h.request('PUT', api(t, `/messages/${msg.body.id}/status`), { token: tok, body: { status: 'sent' } }))
        .status,
    ).toBe(409);

    const qr = await h.request('POST', api(t, '/quick-replies'), {
      token: tok,
      body: { title: 'Hi', content: 'Hi {{first_name}}' },
    });
    const used = await h.request('POST', api(t, `/quick-replies/${qr.body.id}/use`), {
      token: tok,
      body: { conversation_id: ids[1] },
    });
    expect(used.body).toMatchObject({ rendered: 'Hi C', message: { content: 'Hi C', status: 'pending' } });
    expect(
      (await h.request('GET', api(t, '/conversations?q=hello'), { token: tok })).body.data.map(
        (c: { id: number }) => c.id,
      ),
    ).toEqual([ids[0]]);
  });
});
