// Realtime across API instances sharing the real Redis (and PostgreSQL): ids in order whichever instance
// publishes, delivery of each other's events, catch-up on the other instance with no gap at the seam, resync
// beyond the window, typing across instances, and a Redis outage that loses nothing and crashes nothing.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { createLogger, createRedisBus, type EventBus, type PublishedEvent } from '@comms/core/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl, uniqueSlug } from '../support/env.js';
import { api, type Harness, seedChannel, startApi, tokensFor, type WsClient } from '../support/harness.js';
import { compareIds, contents } from '../support/realtime.js';

const PREFIX = uniqueSlug('bus');
let a: Harness;
let b: Harness;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
const eve = randomUUID();
const tok: Record<string, string> = {};
const silent = createLogger({ level: 'silent' });

beforeAll(async () => {
  // Two API instances: separate runtimes, servers and buses; one Redis key prefix, one database.
  a = await startApi({ redis: true, env: { QUEUE_PREFIX: PREFIX } });
  b = await startApi({ redis: true, env: { QUEUE_PREFIX: PREFIX } });
  t = await a.createTenant('rtr');
  Object.assign(tok, await tokensFor(a, t, { ana, bob, eve }));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const entry = async (bus: EventBus, channelId: number, content: string, tenant = t) =>
  (await bus.publish({ type: 'entry_created', tenant, channelId, data: { channel_id: channelId, content } }))!;
async function settled(bus: EventBus, clients: WsClient[], tenant = t) {
  const marker = randomUUID();
  await bus.publish({ type: 'conversation_updated', tenant, data: { marker } });
  await Promise.all(clients.map((c) => c.waitFor((f) => f.data?.marker === marker)));
}
describe('two instances', () => {
  it("deliver each other's events to members only, in the same id order on both", async () => {
    const ch = await seedChannel(a.runtime, t, { type: 'private', members: [ana, bob] });
    const onA = await a.ws(t, tok.bob!);
    const onB = await b.ws(t, tok.ana!);
    const outsider = await b.ws(t, tok.eve!);
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => entry(i % 2 ? a.runtime.bus : b.runtime.bus, ch, `m${i}`)),
    );
    await settled(a.runtime.bus, [onA, onB, outsider]);
    const expected = [...sent].sort((x, y) => compareIds(x.id, y.id)).map((e) => e.id);
    expect(new Set(expected).size).toBe(20);
    for (const c of [onA, onB])
      expect(c.frames.filter((f) => f.type === 'entry_created').map((f) => f.id)).toEqual(expected);
    expect(contents(outsider)).toEqual([]);
    await Promise.all([onA.close(), onB.close(), outsider.close()]);
  });

  it('end to end: a message posted on one instance reaches a member connected to the other', async () => {
    const ch = await a.request('POST', api(t, '/channels'), {
      token: tok.ana,
      body: { name: `Two instances ${Date.now()}`, type: 'public' },
    });
    expect(ch.status).toBe(201);
    expect(
      (await b.request('POST', api(t, `/channels/${ch.body.id}/members`), { token: tok.bob, body: { user_id: bob } }))
        .status,
    ).toBe(201);
    const onA = await a.ws(t, tok.bob!);
    const posted = await b.request('POST', api(t, `/chat/channels/${ch.body.id}/messages`), {
      token: tok.ana,
      body: { content: 'from B' },
    });
    expect(posted.status).toBe(201);
    const frame = await onA.waitFor((f) => f.type === 'entry_created');
    expect(frame.data).toMatchObject({ id: posted.body.id, content: 'from B' });
    expect(frame.id).toMatch(/^\d+-\d+$/);
    await onA.close();
  });

  it('carries typing across instances, never stores it, and never to another tenant', async () => {
    const ch = await seedChannel(a.runtime, t, { members: [ana, bob] });
    const other = await a.createTenant('rtr-iso');
    const stranger = await b.ws(other, await a.token({ tenant: other, sub: bob }));
    const typist = await a.ws(t, tok.ana!);
    const reader = await b.ws(t, tok.bob!);
    const mark = await entry(a.runtime.bus, ch, 'before typing');
    typist.send({ type: 'typing', channel_id: ch });
    expect(await reader.waitFor((f) => f.type === 'typing')).toEqual({
      type: 'typing',
      data: { channel_id: ch, user_id: ana, expires_in_ms: 5_000 },
    });
    const replay = await b.runtime.bus.replay(t, mark.id);
    expect(replay !== 'gap' && replay.some((e) => e.type === 'typing')).toBe(false);
    await settled(b.runtime.bus, [stranger], other);
    expect(stranger.frames.map((f) => f.type)).toEqual(['conversation_updated']);
    await Promise.all([typist.close(), reader.close(), stranger.close()]);
  });
});

describe('catch-up across instances', () => {
  it('replays on the other instance while both keep publishing: every missed event once, in order, then live', async () => {
    const ch = await seedChannel(a.runtime, t, { members: [ana] });
    const first = await a.ws(t, tok.ana!);
    const seen = await entry(a.runtime.bus, ch, 'seen');
    await first.waitFor((f) => f.id === seen.id);
    await first.close();
    const published: PublishedEvent[] = [];
    for (let i = 0; i < 10; i++) published.push(await entry(i % 2 ? a.runtime.bus : b.runtime.bus, ch, `missed ${i}`));
    let stop = false;
    const pump = (async () => {
      for (let i = 0; !stop && i < 1_000; i++) {
        published.push(await entry(i % 2 ? a.runtime.bus : b.runtime.bus, ch, `during ${i}`));
      }
    })();
    await new Promise((r) => setTimeout(r, 30));
    const back = await b.ws(t, tok.ana!, { lastEventId: seen.id });
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await pump;
    const live = await entry(a.runtime.bus, ch, 'live');
    await back.waitFor((f) => f.id === live.id);
    const expected = [...published, live].sort((x, y) => compareIds(x.id, y.id)).map((e) => e.id);
    expect(published.length).toBeGreaterThan(20);
    expect(back.frames.map((f) => f.id)).toEqual(expected);
    await back.close();
  });

  it('asks for a resync beyond the window (count and age both exceeded), or for an unknown id, then goes on live', async () => {
    const prefix = uniqueSlug('win');
    const small = await startApi({
      redis: true,
      env: { QUEUE_PREFIX: prefix },
      overrides: { bus: createRedisBus(testRedisUrl(), silent, { prefix, window: { maxEvents: 3, maxAgeMs: 0 } }) },
    });
    try {
      const token = await small.token({ tenant: t, sub: ana });
      const pub = async (n: number) =>
        (await small.runtime.bus.publish({ type: 'conversation_updated', tenant: t, data: { n } }))!;
      const ids: string[] = [];
      for (let n = 1; n <= 6; n++) ids.push((await pub(n)).id);
      // Kept: 4, 5, 6. From 3 (the newest trimmed) nothing is missing; from 2, event 3 is.
      const edge = await small.ws(t, token, { lastEventId: ids[2] });
      await edge.until((f) => f.length === 3);
      expect(edge.frames.map((f) => f.data?.n)).toEqual([4, 5, 6]);
      await edge.close();
      const future = `${Date.now() + 3_600_000}-0`;
      for (const stale of [ids[0]!, ids[1]!, future, 'banana', '']) {
        const c = await small.ws(t, token, { lastEventId: stale });
        await c.waitFor((f) => f.type === 'resync_required');
        expect(c.frames[0]).toEqual({ type: 'resync_required' });
        const next = await pub(99);
        await c.waitFor((f) => f.id === next.id);
        await c.close();
      }
    } finally {
      await small.close();
    }
  });

  it('keeps events younger than the age window even past maxEvents (whichever keeps more)', async () => {
    const prefix = uniqueSlug('win');
    const bus = createRedisBus(testRedisUrl(), silent, { prefix, window: { maxEvents: 2, maxAgeMs: 60_000 } });
    try {
      const first = (await bus.publish({ type: 'read', tenant: t, data: { n: 0 } }))!;
      for (let n = 1; n <= 9; n++) await bus.publish({ type: 'read', tenant: t, data: { n } });
      const replay = await bus.replay(t, first.id);
      expect(replay !== 'gap' && replay.map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await bus.close();
    }
  });
});

/** A TCP proxy in front of Redis that can play an outage: while down, every connection is cut at once. */
async function redisProxy() {
  const target = new URL(testRedisUrl());
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('Redis going away', () => {
  it('loses no event published during a short outage and crashes nothing; both instances catch up after', async () => {
    const proxy = await redisProxy();
    // Instance P reaches Redis through the proxy (its event bus only); instance A stays connected.
    const p = await startApi({
      redis: true,
      env: { QUEUE_PREFIX: PREFIX },
      overrides: {
        bus: createRedisBus(proxy.url, silent, { prefix: PREFIX, publishWaitMs: 200, retryForMs: 20_000 }),
      },
    });
    try {
      const ch = await seedChannel(a.runtime, t, { members: [ana, bob] });
      const onP = await p.ws(t, tok.ana!);
      const onA = await a.ws(t, tok.bob!);
      await entry(p.runtime.bus, ch, 'before');
      await onA.waitFor((f) => f.data?.content === 'before');
      await onP.waitFor((f) => f.data?.content === 'before');

      proxy.cut();
      // Published on P while its Redis is away: publish answers without the id after 200 ms, and keeps trying.
      const duringP = await entry(p.runtime.bus, ch, 'published on P during the outage').catch(() => 'threw');
      expect(duringP).toBeNull();
      // Published on A meanwhile: P's live read resumes where it stopped, so it gets this one too.
      await entry(a.runtime.bus, ch, 'published on A during the outage');
      await new Promise((r) => setTimeout(r, 500));
      proxy.restore();

      const want = ['before', 'published on A during the outage', 'published on P during the outage'];
      for (const c of [onA, onP]) await c.until(() => want.every((w) => contents(c).includes(w)), 15_000);
      // Same order on both instances, each event once.
      expect(contents(onP)).toEqual(contents(onA));
      expect(contents(onA)).toHaveLength(3);
      await Promise.all([onA.close(), onP.close()]);
    } finally {
      await p.close();
      await proxy.close();
    }
  }, 40_000);

  it('closes its sockets (1012) when the outage outlasted the live buffer, and the client catches up on reconnect', async () => {
    const prefix = uniqueSlug('gap');
    const proxy = await redisProxy();
    const p = await startApi({
      redis: true,
      env: { QUEUE_PREFIX: prefix },
      overrides: { bus: createRedisBus(proxy.url, silent, { prefix }) },
    });
    // The publisher keeps a tiny live buffer, so a short outage outlasts it.
    const busy = createRedisBus(testRedisUrl(), silent, { prefix, liveBuffer: 10 });
    try {
      const ch = await seedChannel(p.runtime, t, { members: [ana] });
      const client = await p.ws(t, tok.ana!);
      const seen = await entry(busy, ch, 'seen');
      await client.waitFor((f) => f.id === seen.id);
      proxy.cut();
      const missed: string[] = [];
      for (let i = 0; i < 400; i++) missed.push((await entry(busy, ch, `missed ${i}`)).id);
      proxy.restore();
      const closed = await client.closed;
      expect(closed.code).toBe(1012);
      // The client does what a client does: reconnect with its last id (to either instance) and is caught up.
      const lastId = client.frames.filter((f) => f.id).at(-1)!.id!;
      const expected = missed.filter((id) => compareIds(id, lastId) > 0);
      expect(expected.length).toBeGreaterThan(0);
      const back = await p.ws(t, tok.ana!, { lastEventId: lastId });
      await back.until((f) => f.length >= expected.length, 15_000);
      expect(back.frames.map((f) => f.id)).toEqual(expected);
      await back.close();
    } finally {
      await busy.close();
      await p.close();
      await proxy.close();
    }
  }, 40_000);
});
