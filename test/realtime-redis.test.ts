// Realtime across two API instances sharing Redis: delivery, replay on the other instance, resync.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { uniqueSlug } from './support/env.js';
import { api, type Harness, startApi } from './support/harness.js';

const PREFIX = uniqueSlug('bus');
let a: Harness;
let b: Harness;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
let tokAna: string;
let tokBob: string;

beforeAll(async () => {
  a = await startApi({ redis: true, env: { QUEUE_PREFIX: PREFIX } });
  b = await startApi({ redis: true, env: { QUEUE_PREFIX: PREFIX } });
  t = await a.createTenant('rtr');
  tokAna = await a.token({ tenant: t, sub: ana });
  tokBob = await a.token({ tenant: t, sub: bob });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

interface Frame {
  type: string;
  id?: string;
  data?: Record<string, unknown>;
}

function connect(h: Harness, token: string, query = ''): Promise<{ frames: Frame[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${h.url.replace('http', 'ws')}/api/v1/tenants/${t}/communications/ws?token=${token}${query}`,
    );
    const frames: Frame[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    ws.once('open', () => resolve({ frames, close: () => ws.close() }));
    ws.once('error', reject);
  });
}

async function until(fn: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

describe('two instances', () => {
  it('deliver each other’s events to members, in id order, and replay on the other instance', async () => {
    const ch = (
      await a.request('POST', api(t, '/channels'), { token: tokAna, body: { name: 'Two instances', type: 'public' } })
    ).body;
    await b.request('POST', api(t, `/channels/${ch.id}/members`), { token: tokBob, body: { user_id: bob } });
    const onA = await connect(a, tokBob);
    const onB = await connect(b, tokAna);
    await b.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokBob, body: { content: 'from B' } });
    await a.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokAna, body: { content: 'from A' } });
    const contents = (f: Frame[]) => f.filter((x) => x.type === 'entry_created').map((x) => x.data?.content);
    await until(() => contents(onA.frames).length === 2 && contents(onB.frames).length === 2);
    expect(contents(onA.frames)).toEqual(['from B', 'from A']);
    expect(contents(onB.frames)).toEqual(['from B', 'from A']);

    const lastSeen = onA.frames.filter((f) => f.id).at(-1)!.id!;
    onA.close();
    for (const text of ['m1', 'm2', 'm3'])
      await a.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokAna, body: { content: text } });
    const back = await connect(b, tokBob, `&last_event_id=${lastSeen}`);
    await b.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokAna, body: { content: 'live' } });
    await until(() => contents(back.frames).length === 4);
    expect(contents(back.frames)).toEqual(['m1', 'm2', 'm3', 'live']);
    const ids = back.frames.filter((f) => f.id).map((f) => f.id!);
    expect(new Set(ids).size).toBe(ids.length);
    back.close();
    onB.close();
  });

  it('answers resync_required for an id outside the window or not ours', async () => {
    const c = await startApi({ redis: true, env: { QUEUE_PREFIX: uniqueSlug('bus'), EVENT_REPLAY_WINDOW_MS: '500' } });
    try {
      const ch = (
        await c.request('POST', api(t, '/channels'), { token: tokAna, body: { name: 'Short window', type: 'public' } })
      ).body;
      const first = await connect(c, tokAna);
      await c.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokAna, body: { content: 'old' } });
      await until(() => first.frames.some((f) => f.type === 'entry_created'));
      const oldId = first.frames.find((f) => f.type === 'entry_created')!.id!;
      first.close();
      // Published while the client is away, then aged out of the window by the next publish.
      await c.request('POST', api(t, `/chat/channels/${ch.id}/messages`), {
        token: tokAna,
        body: { content: 'missed' },
      });
      await new Promise((r) => setTimeout(r, 800));
      await c.request('POST', api(t, `/chat/channels/${ch.id}/messages`), { token: tokAna, body: { content: 'new' } });
      await c.request('POST', api(t, `/chat/channels/${ch.id}/messages`), {
        token: tokAna,
        body: { content: 'newer' },
      });
      const late = await connect(c, tokAna, `&last_event_id=${oldId}`);
      await until(() => late.frames.length > 0);
      expect(late.frames[0]).toEqual({ type: 'resync_required' });
      late.close();
      const garbage = await connect(c, tokAna, '&last_event_id=banana');
      await until(() => garbage.frames.length > 0);
      expect(garbage.frames[0]).toEqual({ type: 'resync_required' });
      garbage.close();
    } finally {
      await c.close();
    }
  });
});
