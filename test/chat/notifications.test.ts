// Mentions and direct messages reach the Notification Service (a fake on loopback) for members who are
// not connected, respecting is_muted and notification_level.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.js';
import { api, tokensFor } from '../support/harness.js';
import { type Stack, startStack } from '../support/stack.js';

let h: Stack;
let notify: FakeProvider;
let t: string;
const ana = randomUUID();
const bob = randomUUID();
const cid = randomUUID();
const tok: Record<string, string> = {};

beforeAll(async () => {
  notify = await startFakeProvider(() => ({ status: 202, body: {} }));
  h = await startStack({ worker: true, env: { NOTIFICATION_SERVICE_URL: `${notify.url}/notifications` } });
  t = await h.createTenant('ntf');
  Object.assign(tok, await tokensFor(h, t, { ana, bob, cid }));
});
afterAll(async () => {
  await h.close();
  await notify.close();
});

const post = (who: string, path: string, body: unknown) => h.request('POST', api(t, path), { token: tok[who], body });
const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));
const sentTo = (user: string) => notify.requests.filter((r) => r.json?.user_id === user);

describe('notifications', () => {
  it('notifies offline mentioned members and direct-message recipients, not connected, muted or silenced ones', async () => {
    const ch = await post('ana', '/channels', { name: 'Notify', type: 'public' });
    await post('bob', `/channels/${ch.body.id}/members`, { user_id: bob });
    await post('cid', `/channels/${ch.body.id}/members`, { user_id: cid });
    await h.request('PUT', api(t, `/channels/${ch.body.id}/members/${cid}`), {
      token: tok.cid,
      body: { is_muted: true },
    });

    const m1 = await post('ana', `/chat/channels/${ch.body.id}/messages`, {
      content: `<@${bob}> <@${cid}> can you take the Lisbon booking?`,
    });
    await settle();
    expect(sentTo(bob)).toHaveLength(1);
    expect(sentTo(bob)[0]!.json).toMatchObject({
      tenant: t,
      reason: 'mention',
      entry_id: m1.body.id,
      author_id: ana,
      channel_id: ch.body.id,
    });
    expect(sentTo(bob)[0]!.headers.authorization).toMatch(/^Bearer /);
    expect(sentTo(cid)).toHaveLength(0);

    // Connected: the realtime frame is enough.
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/tenants/${t}/communications/ws?token=${tok.bob}`);
    await new Promise((r) => ws.once('open', r));
    await post('ana', `/chat/channels/${ch.body.id}/messages`, { content: `<@${bob}> again` });
    await settle();
    expect(sentTo(bob)).toHaveLength(1);
    ws.close();
    await settle(200);

    const dm = await post('ana', '/channels', { type: 'direct', member_ids: [bob] });
    await post('ana', `/chat/channels/${dm.body.id}/messages`, { content: 'private question' });
    await settle();
    expect(sentTo(bob).map((r) => r.json.reason)).toEqual(['mention', 'direct']);
    await h.request('PUT', api(t, `/channels/${dm.body.id}/members/${bob}`), {
      token: tok.bob,
      body: { notification_level: 'none' },
    });
    await post('ana', `/chat/channels/${dm.body.id}/messages`, { content: 'another one' });
    await settle();
    expect(sentTo(bob)).toHaveLength(2);
  });
});
