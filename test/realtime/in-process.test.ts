// The WebSocket on one instance with the embedded (in-process) bus, against the real PostgreSQL: refusals at the
// upgrade, who receives what, membership changes on open sockets, typing, ping, catch-up and resync.
// Channels are written straight into the tenant's tables and events published on the runtime's bus, so these
// tests hold the realtime contract without depending on the chat routes; one test drives the routes end to end.
import { randomUUID } from 'node:crypto';
import { createInProcessBus, type DomainEvent, type PublishedEvent, signToken } from '@comms/core/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type Harness,
  seedChannel,
  startApi,
  TEST_JWT_SECRET,
  type WsClient,
  WsRefused,
  tokensFor,
} from '../support/harness.js';
import { compareIds, contents } from '../support/realtime.js';

let h: Harness;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
const eve = randomUUID();
const tok: Record<string, string> = {};

beforeAll(async () => {
  h = await startApi();
  t = await h.createTenant('rt');
  Object.assign(tok, await tokensFor(h, t, { ana, bob, eve }));
});
afterAll(async () => {
  await h?.close();
});

const publish = async (event: Omit<DomainEvent, 'tenant'> & { tenant?: string }) =>
  (await h.runtime.bus.publish({ tenant: t, ...event }))!;
const entry = (channelId: number, content: string) =>
  publish({ type: 'entry_created', channelId, data: { channel_id: channelId, content } });
/** An inbox event every user of the tenant receives: once it arrives, everything published before it has too. */
const sentinel = (tenant = t) =>
  h.runtime.bus.publish({ type: 'conversation_updated', tenant, data: { id: Date.now(), marker: randomUUID() } });
async function settled(clients: WsClient[], tenant = t) {
  const marker = (await sentinel(tenant))!.data.marker;
  await Promise.all(clients.map((c) => c.waitFor((f) => f.data?.marker === marker)));
}
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WsRefused);
  return err as WsRefused;
};

describe('WebSocket upgrade', () => {
  it('refuses a missing, bad or expired token (401), another tenant (403) and an unknown tenant (404)', async () => {
    const none = await refusal(h.ws(t, null));
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(none.body)).toMatchObject({ status: 401 });
    expect((await refusal(h.ws(t, 'not-a-token'))).status).toBe(401);
    const forged = await signToken('another-secret-0123456789-abcdefgh', {
      sub: ana,
      tenant_slug: t,
      role: 'tenant_user',
    });
    expect((await refusal(h.ws(t, forged))).status).toBe(401);
    const expired = await signToken(
      TEST_JWT_SECRET,
      { sub: ana, tenant_slug: t, role: 'tenant_user' },
      Math.floor(Date.now() / 1000) - 60,
    );
    expect((await refusal(h.ws(t, expired))).status).toBe(401);
    const other = await h.createTenant('rt-other');
    expect((await refusal(h.ws(other, tok.ana!))).status).toBe(403);
    expect((await refusal(h.ws('no-such-tenant', h.serviceToken))).status).toBe(404);
    expect((await refusal(h.ws('Bad_Slug!', h.serviceToken))).status).toBe(404);
  });

  it('accepts the token as Authorization: Bearer as well as ?token=', async () => {
    const c = await h.ws(t, tok.ana!, { header: true });
    c.send({ type: 'ping' });
    await c.waitFor((f) => f.type === 'pong');
    await c.close();
  });
});

describe('delivery', () => {
  it("sends a channel's events to its members only, inbox events to every user, addressed events to their users", async () => {
    const priv = await seedChannel(h.runtime, t, { type: 'private', members: [ana, bob] });
    const pub = await seedChannel(h.runtime, t, { type: 'public', members: [ana] });
    const [a, b, e] = await Promise.all([h.ws(t, tok.ana!), h.ws(t, tok.bob!), h.ws(t, tok.eve!)]);
    const secret = await entry(priv, 'secret plan');
    await entry(pub, 'public but eve is no member');
    const inbox = await publish({ type: 'conversation_created', data: { id: 7, status: 'new' } });
    await publish({
      type: 'mention_created',
      channelId: priv,
      userIds: [bob],
      data: { channel_id: priv, user_id: bob },
    });
    await settled([a, b, e]);

    expect(a.frames.find((f) => f.type === 'entry_created')).toEqual({
      type: 'entry_created',
      id: secret.id,
      data: { channel_id: priv, content: 'secret plan' },
    });
    expect(contents(a)).toEqual(['secret plan', 'public but eve is no member']);
    expect(contents(b)).toEqual(['secret plan']);
    expect(contents(e)).toEqual([]);
    for (const c of [a, b, e])
      expect(c.frames.find((f) => f.type === 'conversation_created')).toEqual({
        type: 'conversation_created',
        id: inbox.id,
        data: { id: 7, status: 'new' },
      });
    expect(b.frames.filter((f) => f.type === 'mention_created')).toHaveLength(1);
    expect(a.frames.some((f) => f.type === 'mention_created')).toBe(false);
    await Promise.all([a.close(), b.close(), e.close()]);
  });

  it("never sends another tenant's events, even of a channel with the same id the same user is a member of", async () => {
    // Two fresh tenants: their first channels are both number 1, and the same user is a member of each.
    const [x, y] = [await h.createTenant('rt-iso'), await h.createTenant('rt-iso')];
    const inX = await seedChannel(h.runtime, x, { members: [ana] });
    const inY = await seedChannel(h.runtime, y, { members: [ana] });
    expect(inX).toBe(inY);
    const onX = await h.ws(x, await h.token({ tenant: x, sub: ana }));
    const onY = await h.ws(y, await h.token({ tenant: y, sub: ana }));
    await publish({ tenant: x, type: 'entry_created', channelId: inX, data: { channel_id: inX, content: 'x only' } });
    await publish({ tenant: x, type: 'conversation_created', data: { id: 1 } });
    await settled([onX], x);
    await settled([onY], y);
    expect(onX.frames.map((f) => f.type)).toEqual(['entry_created', 'conversation_created', 'conversation_updated']);
    expect(onY.frames.map((f) => f.type)).toEqual(['conversation_updated']); // its own tenant's sentinel only
    await Promise.all([onX.close(), onY.close()]);
  });

  it('follows membership changes on an open socket: joined members start, removed members stop at once', async () => {
    const ch = await seedChannel(h.runtime, t, { type: 'private', members: [ana] });
    const b = await h.ws(t, tok.bob!);
    await entry(ch, 'before bob joined');
    await publish({ type: 'member_joined', channelId: ch, data: { channel_id: ch, user_id: bob, role: 'member' } });
    await entry(ch, 'while bob is a member');
    await publish({ type: 'member_left', channelId: ch, data: { channel_id: ch, user_id: bob } });
    await entry(ch, 'after bob left');
    await settled([b]);
    expect(b.frames.filter((f) => f.data?.channel_id === ch).map((f) => f.type)).toEqual([
      'member_joined',
      'entry_created',
      'member_left',
    ]);
    expect(contents(b)).toEqual(['while bob is a member']);

    // A deleted channel reaches its members, then nothing more of it does.
    const gone = await seedChannel(h.runtime, t, { members: [bob] });
    const b2 = await h.ws(t, tok.bob!);
    await publish({ type: 'channel_deleted', channelId: gone, data: { channel_id: gone, purged: false } });
    await entry(gone, 'after delete');
    await settled([b2]);
    expect(b2.frames.map((f) => f.type)).toEqual(['channel_deleted', 'conversation_updated']);
    await Promise.all([b.close(), b2.close()]);
  });

  it('end to end through the chat routes: a posted message reaches members, and a removed member stops receiving', async () => {
    const post = (who: string, path: string, body: unknown) =>
      h.request('POST', api(t, path), { token: tok[who], body });
    const ch = await post('ana', '/channels', { name: `Desk ${Date.now()}`, type: 'private' });
    expect(ch.status).toBe(201);
    expect((await post('ana', `/channels/${ch.body.id}/members`, { user_id: bob })).status).toBe(201);
    const [a, b, e] = await Promise.all([h.ws(t, tok.ana!), h.ws(t, tok.bob!), h.ws(t, tok.eve!)]);
    const msg = await post('bob', `/chat/channels/${ch.body.id}/messages`, { content: 'hello desk' });
    expect(msg.status).toBe(201);
    for (const c of [a, b])
      expect(
        (await c.waitFor((f) => f.type === 'entry_created' && f.data?.content === 'hello desk')).data,
      ).toMatchObject({
        id: msg.body.id,
      });
    const removed = await h.request('DELETE', api(t, `/channels/${ch.body.id}/members/${bob}`), { token: tok.ana });
    expect(removed.status).toBe(204);
    await b.waitFor((f) => f.type === 'member_left');
    await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: 'after bob left' });
    await a.waitFor((f) => f.data?.content === 'after bob left');
    await settled([b, e]);
    expect(b.frames.some((f) => f.data?.content === 'after bob left')).toBe(false);
    expect(e.frames.some((f) => f.type === 'entry_created')).toBe(false);
    await Promise.all([a.close(), b.close(), e.close()]);
  });
});

describe('client frames', () => {
  it('typing: members only, one broadcast per user and channel every 2 s, with expires_in_ms and no id', async () => {
    const ch = await seedChannel(h.runtime, t, { members: [ana, bob] });
    const [a, b, e] = await Promise.all([h.ws(t, tok.ana!), h.ws(t, tok.bob!), h.ws(t, tok.eve!)]);
    a.send({ type: 'typing', channel_id: ch });
    a.send({ type: 'typing', channel_id: ch });
    const first = await b.waitFor((f) => f.type === 'typing');
    expect(first).toEqual({ type: 'typing', data: { channel_id: ch, user_id: ana, expires_in_ms: 5_000 } });
    await settled([a, b]);
    expect(b.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
    expect(a.frames.filter((f) => f.type === 'typing')).toHaveLength(1); // the typist's other tabs see it too

    e.send({ type: 'typing', channel_id: ch });
    expect(await e.waitFor((f) => f.type === 'error')).toMatchObject({ type: 'error', code: 'forbidden' });

    await new Promise((r) => setTimeout(r, 2_100));
    a.send({ type: 'typing', channel_id: ch });
    await b.until((f) => f.filter((x) => x.type === 'typing').length === 2);
    await Promise.all([a.close(), b.close(), e.close()]);
  });

  it('answers ping with pong, and malformed frames with an error frame while the socket stays open', async () => {
    const a = await h.ws(t, tok.ana!);
    for (const bad of ['not json', '[]', '{"type":"dance"}', '{"type":"typing","channel_id":"x"}', '{"type":"typing"}'])
      a.send(bad);
    a.send({ type: 'ping' });
    await a.until((f) => f.some((x) => x.type === 'pong'));
    const errors = a.frames.filter((f) => f.type === 'error');
    expect(errors).toHaveLength(5);
    for (const err of errors) expect(err).toMatchObject({ code: 'bad_frame', detail: expect.any(String) });
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    await a.close();
  });

  it('closes a peer that stops answering protocol pings, and a socket whose token expires; keeps the others', async () => {
    const quick = await startApi({ realtime: { pingEveryMs: 100 } });
    try {
      const slug = await quick.createTenant('rt-ping');
      const token = await quick.token({ tenant: slug });
      // At least two whole seconds of life (exp is in seconds, so `now + 1` can be a few milliseconds away),
      // and connected first: on a loaded machine the upgrade itself must not outlive the token.
      const shortLived = await signToken(
        TEST_JWT_SECRET,
        { sub: ana, tenant_slug: slug, role: 'tenant_user' },
        Math.floor(Date.now() / 1000) + 3,
      );
      const expiring = await quick.ws(slug, shortLived);
      const dead = await quick.ws(slug, token, { autoPong: false });
      const live = await quick.ws(slug, token);
      expect((await dead.closed).code).toBe(1006); // terminated, no closing handshake
      expect(await expiring.closed).toMatchObject({ code: 4401, reason: expect.stringContaining('token expired') });
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      await live.close();
    } finally {
      await quick.close();
    }
  });
});

describe('catch-up', () => {
  it('replays missed events in order after a reconnect, then goes on live, with no gap and no duplicate', async () => {
    const ch = await seedChannel(h.runtime, t, { members: [ana] });
    const elsewhere = await seedChannel(h.runtime, t, { members: [bob] });
    const first = await h.ws(t, tok.ana!);
    const seen = await entry(ch, 'm1');
    await first.waitFor((f) => f.id === seen.id);
    await first.close();
    await entry(ch, 'm2');
    await entry(elsewhere, 'not for ana');
    await entry(ch, 'm3');
    const again = await h.ws(t, tok.ana!, { lastEventId: seen.id });
    await entry(ch, 'm4');
    await again.waitFor((f) => f.data?.content === 'm4');
    expect(contents(again)).toEqual(['m2', 'm3', 'm4']);
    const ids = again.frames.map((f) => f.id!);
    expect(ids).toEqual([...ids].sort(compareIds));
    expect(new Set(ids).size).toBe(ids.length);
    await again.close();
  });

  it('holds the seam while events keep coming: every event after last_event_id exactly once, in id order', async () => {
    const ch = await seedChannel(h.runtime, t, { members: [ana] });
    const start = await entry(ch, 'start');
    const published: PublishedEvent[] = [];
    let stop = false;
    const pump = (async () => {
      // One event per turn of the event loop, so some land while the session reads memberships and replay.
      for (let i = 0; !stop && i < 3_000; i++) {
        published.push(await entry(ch, `n${i}`));
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const c = await h.ws(t, tok.ana!, { lastEventId: start.id });
    await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await pump;
    const last = published.at(-1)!;
    await c.waitFor((f) => f.id === last.id);
    expect(published.length).toBeGreaterThan(20);
    expect(c.frames.map((f) => f.id)).toEqual(published.map((e) => e.id));
    await c.close();
  });

  it('asks for a resync when the id is outside the window, unknown or not an id, then goes on live', async () => {
    const small = await startApi({ overrides: { bus: createInProcessBus({ maxEvents: 3, maxAgeMs: 0 }) } });
    try {
      const slug = await small.createTenant('rt-win');
      const token = await small.token({ tenant: slug });
      const pub = (n: number) =>
        small.runtime.bus.publish({
          type: 'conversation_updated',
          tenant: slug,
          data: { n },
        }) as Promise<PublishedEvent>;
      const ids: string[] = [];
      for (let n = 1; n <= 6; n++) ids.push((await pub(n)).id);
      // Window: the last 3 (4, 5, 6). From 3 (the newest one trimmed) nothing is missing; from 2, event 3 is.
      const edge = await small.ws(slug, token, { lastEventId: ids[2] });
      await edge.until((f) => f.length === 3);
      expect(edge.frames.map((f) => f.data?.n)).toEqual([4, 5, 6]);
      await edge.close();
      for (const stale of [ids[1]!, '99999999999999-1', 'banana', `${Number(ids[0]!.split('-')[0]) - 1}-5`]) {
        const c = await small.ws(slug, token, { lastEventId: stale });
        await c.waitFor((f) => f.type === 'resync_required');
        expect(c.frames[0]).toEqual({ type: 'resync_required' });
        await pub(99);
        await c.waitFor((f) => f.data?.n === 99);
        await c.close();
      }
    } finally {
      await small.close();
    }
  });
});

describe('the in-process bus', () => {
  it('keeps whichever is larger: the last maxEvents, or every event younger than maxAgeMs', async () => {
    const young = createInProcessBus({ maxEvents: 2, maxAgeMs: 60_000 });
    const old = createInProcessBus({ maxEvents: 2, maxAgeMs: 0 });
    for (const bus of [young, old]) {
      const first = (await bus.publish({ type: 'read', tenant: 'x', data: {} }))!;
      for (let i = 0; i < 4; i++) await bus.publish({ type: 'read', tenant: 'x', data: { i } });
      await bus.publish({ type: 'typing', tenant: 'x', ephemeral: true, data: {} });
      const replay = await bus.replay('x', first.id);
      if (bus === young) expect(replay).toHaveLength(4);
      else expect(replay).toBe('gap');
    }
    expect(await young.replay('other-tenant', '1-1')).toBe('gap');
    await young.close();
    await old.close();
  });
});
