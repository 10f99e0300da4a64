// The WebSocket endpoint on one instance (in-process bus): who receives what, typing, replay, refusals.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, type Harness, startApi } from './support/harness.js';

let h: Harness;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
const eve = randomUUID();
const tok: Record<string, string> = {};

beforeAll(async () => {
  h = await startApi();
  t = await h.createTenant('rt');
  for (const [name, sub] of [
    ['ana', ana],
    ['bob', bob],
    ['eve', eve],
  ] as const)
    tok[name] = await h.token({ tenant: t, sub });
});
afterAll(async () => {
  await h.close();
});

interface Frame {
  type: string;
  id?: string;
  data?: Record<string, unknown>;
}

function connect(token: string, query = '', tenant = t): Promise<{ ws: WebSocket; frames: Frame[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${h.url.replace('http', 'ws')}/api/v1/tenants/${tenant}/communications/ws?token=${token}${query}`,
    );
    const frames: Frame[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    ws.once('open', () => resolve({ ws, frames, close: () => ws.close() }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const settle = () => new Promise((r) => setTimeout(r, 150));
const post = (who: string, path: string, body: unknown) => h.request('POST', api(t, path), { token: tok[who], body });

describe('WebSocket', () => {
  it('refuses a bad token, another tenant and an unknown tenant before the socket opens', async () => {
    await expect(connect('not-a-token')).rejects.toThrow('HTTP 401');
    const other = await h.createTenant('rt-other');
    await expect(connect(tok.ana!, '', other)).rejects.toThrow('HTTP 403');
    await expect(connect(h.serviceToken, '', 'no-such-tenant')).rejects.toThrow('HTTP 404');
  });

  it("delivers a channel's events to its members only, and inbox events to the tenant's users", async () => {
    const priv = await post('ana', '/channels', { name: 'Private desk', type: 'private' });
    await post('ana', `/channels/${priv.body.id}/members`, { user_id: bob });
    const a = await connect(tok.ana!);
    const b = await connect(tok.bob!);
    const e = await connect(tok.eve!);
    const msg = await post('bob', `/chat/channels/${priv.body.id}/messages`, { content: 'secret plan' });
    const conv = await post('eve', '/conversations', {
      channel: 'sms',
      contact_identifier: `+1555${Date.now() % 1e7}`,
    });
    await settle();
    for (const c of [a, b])
      expect(c.frames.find((f) => f.type === 'entry_created')?.data).toMatchObject({
        id: msg.body.id,
        content: 'secret plan',
      });
    expect(e.frames.some((f) => f.type === 'entry_created')).toBe(false);
    for (const c of [a, b, e])
      expect(c.frames.find((f) => f.type === 'conversation_created')?.data).toMatchObject({ id: conv.body.id });
    // Removal takes effect on the open socket at once.
    await h.request('DELETE', api(t, `/channels/${priv.body.id}/members/${bob}`), { token: tok.ana });
    await post('ana', `/chat/channels/${priv.body.id}/messages`, { content: 'after bob left' });
    await settle();
    expect(b.frames.some((f) => f.type === 'entry_created' && f.data?.content === 'after bob left')).toBe(false);
    expect(a.frames.some((f) => f.type === 'entry_created' && f.data?.content === 'after bob left')).toBe(true);
    for (const c of [a, b, e]) c.close();
  });

  it("never delivers another tenant's events", async () => {
    const other = await h.createTenant('rt-iso');
    const outsider = await connect(await h.token({ tenant: other, sub: randomUUID() }), '', other);
    const insider = await connect(tok.ana!);
    await post('ana', '/conversations', { channel: 'email', contact_identifier: `iso-${Date.now()}@example.com` });
    const ch = await post('ana', '/channels', { name: `Iso ${Date.now()}`, type: 'public' });
    await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: 'tenant-only' });
    await settle();
    expect(insider.frames.map((f) => f.type)).toEqual(
      expect.arrayContaining(['conversation_created', 'entry_created']),
    );
    expect(outsider.frames).toEqual([]);
    insider.close();
    outsider.close();
  });

  it('typing frames are rate-limited and ping is answered', async () => {
    const ch = await post('ana', '/channels', { name: `Typing ${Date.now()}`, type: 'public' });
    await post('bob', `/channels/${ch.body.id}/members`, { user_id: bob });
    const a = await connect(tok.ana!);
    const b = await connect(tok.bob!);
    a.ws.send(JSON.stringify({ type: 'typing', channel_id: ch.body.id }));
    a.ws.send(JSON.stringify({ type: 'typing', channel_id: ch.body.id }));
    a.ws.send(JSON.stringify({ type: 'ping' }));
    a.ws.send('not json');
    await settle();
    expect(b.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
    expect(b.frames.find((f) => f.type === 'typing')?.data).toMatchObject({ channel_id: ch.body.id, user_id: ana });
    expect(a.frames.map((f) => f.type)).toEqual(expect.arrayContaining(['pong', 'error']));
    a.close();
    b.close();
  });

  it('replays missed events in order after reconnecting, and asks for a resync when it cannot', async () => {
    const ch = await post('ana', '/channels', { name: `Replay ${Date.now()}`, type: 'public' });
    const first = await connect(tok.ana!);
    await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: 'm1' });
    await settle();
    const lastSeen = first.frames.filter((f) => f.id).at(-1)!.id!;
    first.close();
    for (const text of ['m2', 'm3', 'm4'])
      await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: text });
    const again = await connect(tok.ana!, `&last_event_id=${lastSeen}`);
    await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: 'm5' });
    await settle();
    const entries = again.frames.filter((f) => f.type === 'entry_created').map((f) => f.data?.content);
    expect(entries).toEqual(['m2', 'm3', 'm4', 'm5']);
    const ids = again.frames.filter((f) => f.id).map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    again.close();
    const lost = await connect(tok.ana!, '&last_event_id=99999999');
    await settle();
    expect(lost.frames[0]).toEqual({ type: 'resync_required' });
    lost.close();
  });
});
