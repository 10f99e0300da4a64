// Messenger and Instagram through the gateway and back out through the worker, against the real PostgreSQL and
// Redis, with a fake Send API on loopback. Inbound shapes follow the fixtures' documentation pages
// (adapters/messenger/src/fixtures/README.md).
import {
  messengerEcho,
  messengerRead,
  messengerText,
  messengerWebhook,
  signedMetaWebhook,
} from '@comms/adapter-messenger/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { db, fake, h, messageRow, useRoundTripStack } from '../support/round-trip.js';
import { createAccount } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';

useRoundTripStack();

describe('Messenger and Instagram', () => {
  const PAGE = '1234567890123';
  const IG = '17841400000000001';
  const SECRET = 'meta-app-secret';
  const post = (tenant: string, payload: unknown) =>
    fetch(`${h.url}/webhooks/${tenant}/messenger`, { method: 'POST', ...signedMetaWebhook(payload, SECRET) });
  const message = (object: 'page' | 'instagram', account: string, from: string, text: string) =>
    messengerWebhook({ object, account, messaging: [messengerText({ account, from, text })] });

  it('stores Messenger and Instagram messages, replies through the Send API, and applies read watermarks', async () => {
    const tenant = await h.createTenant('fb');
    await createAccount(h, tenant, {
      provider: 'messenger',
      identifier: PAGE,
      credentials: { app_secret: SECRET, page_access_token: 'PAGE-TOKEN', verify_token: 'vt' },
    });
    await createAccount(h, tenant, {
      provider: 'instagram',
      identifier: IG,
      credentials: { app_secret: SECRET, page_access_token: 'IG-TOKEN' },
    });
    expect((await post(tenant, message('page', PAGE, '6543210987654321', 'Breakfast included?'))).status).toBe(200);
    expect((await post(tenant, message('instagram', IG, '17841400000000099', 'Rooms in July?'))).status).toBe(200);
    const convs = (await h.request('GET', api(tenant, '/conversations'))).body.data;
    expect(convs.map((c: { channel: string }) => c.channel).sort()).toEqual(['instagram', 'messenger']);
    // An echo of our own message stores nothing.
    const echo = messengerWebhook({
      account: PAGE,
      messaging: [messengerEcho({ account: PAGE, to: '6543210987654321', text: 'x' })],
    });
    expect((await post(tenant, echo)).status).toBe(200);

    const fbConv = convs.find((c: { channel: string }) => c.channel === 'messenger');
    const reply = (
      await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: fbConv.id, content: 'Yes it is' } })
    ).body;
    const sent = await eventually(
      () => messageRow(tenant, reply.id),
      (r) => r.status === 'sent',
    );
    expect(sent.external_id).toMatch(/^m_out_/);
    const call = fake.requests.find((r) => r.path === '/me/messages' && r.json.message.text === 'Yes it is')!;
    expect(call.headers.authorization).toBe('Bearer PAGE-TOKEN');
    expect(call.json).toMatchObject({ recipient: { id: '6543210987654321' }, messaging_type: 'RESPONSE' });

    const read = messengerWebhook({
      account: PAGE,
      messaging: [messengerRead({ account: PAGE, from: '6543210987654321', watermark: Date.now() + 1000 })],
    });
    expect((await post(tenant, read)).status).toBe(200);
    expect(
      (
        await eventually(
          () => messageRow(tenant, reply.id),
          (r) => r.status === 'read',
        )
      ).status,
    ).toBe('read');
    expect((await db.query(`select count(*)::int as n from "${schemaOf(tenant)}".inbox_messages`)).rows[0].n).toBe(3);
  });
});
