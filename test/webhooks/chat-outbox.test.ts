// The outbox of outgoing webhooks (issue 15) for the team chat: a channel's changes commit with their delivery
// rows, and the WebSocket frames follow the commit. When the outbox cannot be written, nothing of the change is kept
// or told, and the client's retry goes through once it is back. Against the real PostgreSQL and Redis with the
// worker running; the Notification Service and the receiver fake on loopback.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.js';
import { api, tokensFor } from '../support/harness.js';
import { rememberSecrets } from '../support/log-capture.js';
import { type Stack, startStack } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

let h: Stack;
let notify: FakeProvider;
let receiver: Receiver;
const ana = randomUUID();
const bob = randomUUID();

beforeAll(async () => {
  notify = await startFakeProvider(() => ({ status: 202, body: {} }));
  receiver = await startReceiver();
  h = await startStack({
    redis: true,
    worker: true,
    env: { NOTIFICATION_SERVICE_URL: `${notify.url}/notifications`, WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
});
afterAll(async () => {
  await h.close();
  await notify.close();
  await receiver.close();
});

async function subscribedTenant() {
  const t = await h.createTenant('cobx');
  const tok = await tokensFor(h, t, { ana, bob });
  const ep = await h.request('POST', api(t, '/webhook-endpoints'), { body: { url: receiver.url } });
  expect(ep.status, ep.text).toBe(201);
  rememberSecrets([ep.body.secret, ep.body.secret.slice('whsec_'.length)]);
  const as = (who: 'ana' | 'bob') => ({
    post: (path: string, body: unknown) => h.request('POST', api(t, path), { token: tok[who], body }),
    put: (path: string, body: unknown) => h.request('PUT', api(t, path), { token: tok[who], body }),
    delete: (path: string) => h.request('DELETE', api(t, path), { token: tok[who] }),
  });
  const channel = await as('ana').post('/channels', { name: `Lisbon desk ${t}`, type: 'public' });
  expect(channel.status, channel.text).toBe(201);
  expect((await as('bob').post(`/channels/${channel.body.id}/members`, { user_id: bob })).status).toBe(201);
  return { t, tok, as, channelId: channel.body.id as number };
}

const outboxTypes = async (t: string) =>
  (await h.runtime.database.db.execute(
    `select event_type, payload from "${schemaOf(t)}".webhook_deliveries order by id` as never,
  )) as unknown as { rows: { event_type: string; payload: string }[] };

describe('the outbox of the team chat', () => {
  it('commits posts, reactions, edits and deletes with their deliveries; frames and notifications follow', async () => {
    const { t, tok, as, channelId } = await subscribedTenant();
    const bobSocket = await h.ws(t, tok.bob);
    const msg = await as('ana').post(`/chat/channels/${channelId}/messages`, {
      content: `<@${bob}> can you take the Lisbon booking?`,
    });
    expect(msg.status, msg.text).toBe(201);
    const id = msg.body.id as number;
    await bobSocket.waitFor((f) => f.type === 'entry_created' && f.data?.id === id);
    expect((await as('bob').post(`/chat/messages/${id}/reactions`, { emoji: '👍' })).status).toBe(200);
    expect((await as('ana').put(`/chat/messages/${id}`, { content: 'Bob, the Lisbon booking?' })).status).toBe(200);
    expect((await as('ana').delete(`/chat/messages/${id}`)).status).toBe(204);
    await bobSocket.waitFor((f) => f.type === 'entry_deleted' && f.data?.id === id);
    await bobSocket.close();

    const about = (type: string) => (r: { json: { type: string; data: Record<string, any> } }) =>
      r.json.type === type && (r.json.data.id === id || r.json.data.entry_id === id);
    for (const type of ['entry_created', 'reaction_added', 'entry_edited', 'entry_deleted'])
      expect((await receiver.waitFor(1, 10_000, about(type)))[0]!.json.data.channel_id).toBe(channelId);
    const rows = (await outboxTypes(t)).rows.map((r) => r.event_type);
    expect(rows).toEqual(expect.arrayContaining(['entry_created', 'reaction_added', 'entry_edited', 'entry_deleted']));
  });

  it('keeps and tells nothing when the outbox refuses the change; the same post then goes through, notified once', async () => {
    const { t, tok, as, channelId } = await subscribedTenant();
    const schema = schemaOf(t);
    const bobSocket = await h.ws(t, tok.bob);
    await h.runtime.database.db.execute(
      `create function "${schema}".refuse_outbox() returns trigger language plpgsql as
         $$ begin raise exception 'outbox unavailable'; end $$` as never,
    );
    await h.runtime.database.db.execute(
      `create trigger refuse before insert on "${schema}".webhook_deliveries
         for each statement execute function "${schema}".refuse_outbox()` as never,
    );
    const refused = await as('ana').post(`/chat/channels/${channelId}/messages`, {
      content: `<@${bob}> refused`,
      client_msg_id: 'c-1',
    });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    await new Promise((r) => setTimeout(r, 500));
    const entries = (await h.runtime.database.db.execute(
      `select content from "${schema}".chat_entries where entry_type = 'message'` as never,
    )) as unknown as { rows: unknown[] };
    expect(entries.rows).toEqual([]);
    expect(bobSocket.frames.filter((f) => f.type === 'entry_created')).toEqual([]);
    await bobSocket.close();

    // Bob is offline now: once the outbox is back, the retried post is stored, delivered and notified, once.
    await h.runtime.database.db.execute(`drop trigger refuse on "${schema}".webhook_deliveries` as never);
    const again = await as('ana').post(`/chat/channels/${channelId}/messages`, {
      content: `<@${bob}> refused`,
      client_msg_id: 'c-1',
    });
    expect(again.status, again.text).toBe(201);
    await receiver.waitFor(1, 10_000, (r) => r.json.type === 'entry_created' && r.json.data.id === again.body.id);
    const notified = await eventually(
      async () => notify.requests.filter((r) => r.json?.entry_id === again.body.id),
      (list) => list.length > 0,
      10_000,
    );
    expect(notified.map((r) => r.json.reason)).toEqual(['mention']);
  });
});
