import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@comms/core/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './support/env.js';
import { api, type Harness, startApi } from './support/harness.js';
import { schemaOf } from './support/wait.js';

let h: Harness;
let db: pg.Client;
let t: string;
let agent: string;
const agentId = randomUUID();

beforeAll(async () => {
  h = await startApi();
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  t = await h.createTenant('inbox');
  agent = await h.token({ tenant: t, role: 'tenant_user', sub: agentId });
});
afterAll(async () => {
  await db.end();
  await h.close();
});

async function newConversation(body: Record<string, unknown> = {}) {
  const res = await h.request('POST', api(t, '/conversations'), {
    token: agent,
    body: {
      channel: 'sms',
      contact_identifier: `+1555${Math.floor(Math.random() * 1e7)}`,
      contact_name: 'Ana Lima',
      ...body,
    },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Simulates the customer's last inbound message (what the gateway will record). */
async function customerWroteAt(id: number, at: Date) {
  await db.query(`update "${schemaOf(t)}".inbox_conversations set last_inbound_at = $1 where id = $2`, [at, id]);
}

describe('conversations', () => {
  it('creates, gets, updates, assigns, qualifies, reads and archives', async () => {
    const conv = await newConversation({ priority: 'high', tags: ['vip'] });
    expect(conv).toMatchObject({
      channel: 'sms',
      contact_name: 'Ana Lima',
      status: 'new',
      priority: 'high',
      tags: ['vip'],
      is_spam: false,
      message_count: 0,
    });

    const got = await h.request('GET', api(t, `/conversations/${conv.id}`), { token: agent });
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(conv.id);

    const upd = await h.request('PUT', api(t, `/conversations/${conv.id}`), {
      token: agent,
      body: { priority: 'low', contact_name: 'Ana L.' },
    });
    expect(upd.body).toMatchObject({ priority: 'low', contact_name: 'Ana L.' });

    const assignee = randomUUID();
    const asg = await h.request('POST', api(t, `/conversations/${conv.id}/assign`), {
      token: agent,
      body: { user_id: assignee },
    });
    expect(asg.body).toMatchObject({ assigned_to: assignee, status: 'open' });
    expect(asg.body.assigned_at).not.toBeNull();
    const unasg = await h.request('POST', api(t, `/conversations/${conv.id}/assign`), {
      token: agent,
      body: { user_id: null },
    });
    expect(unasg.body).toMatchObject({ assigned_to: null, assigned_at: null });

    const q = await h.request('POST', api(t, `/conversations/${conv.id}/qualify`), {
      token: agent,
      body: { lead_id: 'L-42', notes: 'Wants Lisbon in May' },
    });
    expect(q.body).toMatchObject({
      status: 'qualified',
      is_lead: true,
      lead_id: 'L-42',
      qualified_by: agentId,
      qualification_notes: 'Wants Lisbon in May',
    });

    await db.query(`update "${schemaOf(t)}".inbox_conversations set unread_count = 3 where id = $1`, [conv.id]);
    const read = await h.request('POST', api(t, `/conversations/${conv.id}/read`), { token: agent });
    expect(read.body.unread_count).toBe(0);

    const del = await h.request('DELETE', api(t, `/conversations/${conv.id}`), { token: agent });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('archived');
    expect(del.body.archived_at).not.toBeNull();
    // Nothing is erased.
    const row = await db.query(`select status from "${schemaOf(t)}".inbox_conversations where id = $1`, [conv.id]);
    expect(row.rows[0].status).toBe('archived');
  });

  it('refuses a second open conversation with the same contact (409) but allows one after archiving', async () => {
    const conv = await newConversation({ contact_identifier: '+15550009999' });
    const dup = await h.request('POST', api(t, '/conversations'), {
      token: agent,
      body: { channel: 'sms', contact_identifier: '+15550009999' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.detail).toContain(String(conv.id));
    await h.request('DELETE', api(t, `/conversations/${conv.id}`), { token: agent });
    const again = await h.request('POST', api(t, '/conversations'), {
      token: agent,
      body: { channel: 'sms', contact_identifier: '+15550009999' },
    });
    expect(again.status).toBe(201);
    // Reopening the archived one now clashes with the live one.
    const reopen = await h.request('PUT', api(t, `/conversations/${conv.id}`), {
      token: agent,
      body: { status: 'open' },
    });
    expect(reopen.status).toBe(409);
  });

  it('names the fields of invalid input, never 500', async () => {
    const res = await h.request('POST', api(t, '/conversations'), {
      token: agent,
      body: { channel: 'pigeon', contact_identifier: '' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['channel', 'contact_identifier']);
    const bad = await h.request('POST', api(t, '/conversations'), { token: agent, body: '{"channel": ' });
    expect(bad.status).toBe(400);
    const badId = await h.request('GET', api(t, '/conversations/abc'), { token: agent });
    expect(badId.status).toBe(400);
    expect(badId.body.errors[0].field).toBe('path.id');
    expect((await h.request('GET', api(t, '/conversations/999999'), { token: agent })).status).toBe(404);
    const badFilter = await h.request('GET', api(t, '/conversations?status=lost&limit=0'), { token: agent });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'query.limit',
      'query.status.0',
    ]);
    expect((await h.request('GET', api(t, '/conversations?cursor=garbage'), { token: agent })).status).toBe(400);
    // A cursor PostgreSQL could not read back (a year past 9999) is refused before the query.
    const farFuture = Buffer.from(JSON.stringify(['+010000-01-01T00:00:00.000Z', 1])).toString('base64url');
    const far = await h.request('GET', api(t, `/conversations?cursor=${farFuture}`), { token: agent });
    expect(far.status, far.text).toBe(400);
    expect(far.body.detail).toContain('cursor is not valid');
    // A repeated status is one filter; a list longer than any real one is refused.
    const repeated = await h.request('GET', api(t, `/conversations?status=${Array(200).fill('new').join(',')}`), {
      token: agent,
    });
    expect(repeated.status).toBe(200);
    const endless = await h.request('GET', api(t, `/conversations?status=${Array(300).fill('new').join(',')}`), {
      token: agent,
    });
    expect(endless.status).toBe(400);
    expect(endless.body.errors[0].field).toBe('query.status');
    const unknownField = await h.request('PUT', api(t, '/conversations/1'), { token: agent, body: { colour: 'red' } });
    expect(unknownField.status).toBe(400);

    // Values the database cannot hold are the request's fault: 400 with a detail, never 500.
    const huge = await h.request('GET', api(t, '/conversations/99999999999'), { token: agent });
    expect(huge.status).toBe(400);
    expect(huge.body.errors[0].field).toBe('path.id');
    const conv = await newConversation();
    const nul = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, content: 'hello\u0000world' },
    });
    expect(nul.status, nul.text).toBe(400);
    expect(nul.headers.get('content-type')).toContain('application/problem+json');
    expect(nul.body.detail).toMatch(/cannot be stored/);
    const nulName = await h.request('PUT', api(t, `/conversations/${conv.id}`), {
      token: agent,
      body: { contact_name: 'Ana\u0000' },
    });
    expect(nulName.status, nulName.text).toBe(400);
    const rows = await db.query(
      `select count(*)::int as n from "${schemaOf(t)}".inbox_messages where conversation_id = $1`,
      [conv.id],
    );
    expect(rows.rows[0].n).toBe(0);
  });

  it('lists every field exactly as the single-item endpoints render it', async () => {
    // The lists are rendered from PostgreSQL's text output (selectJson), the single items by the TypeScript views: same JSON.
    const conv = await newConversation({
      priority: 'high',
      tags: ['vip', 'lisbon'],
      contact_metadata: { locale: 'pt-BR', nested: { a: [1, 2] } },
      platform_metadata: { source: 'ads' },
    });
    await h.request('POST', api(t, `/conversations/${conv.id}/assign`), { token: agent, body: { user_id: agentId } });
    await h.request('POST', api(t, `/conversations/${conv.id}/qualify`), {
      token: agent,
      body: { lead_id: 'L-7', notes: 'Porto, 4 nights' },
    });
    await customerWroteAt(conv.id, new Date('2026-11-30T08:15:00.120Z'));
    const sent = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, content: 'Olá! "quoted" \\ and émoji 🌍' },
    });
    expect(sent.status, sent.text).toBe(202);

    const single = await h.request('GET', api(t, `/conversations/${conv.id}`), { token: agent });
    const listed = await h.request('GET', api(t, `/conversations?q=${encodeURIComponent(conv.contact_identifier)}`), {
      token: agent,
    });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toContain('application/json');
    expect(listed.body.data).toEqual([single.body]);
    expect(listed.body.next_cursor).toBeNull();
    expect(single.body).toMatchObject({ tags: ['vip', 'lisbon'], last_inbound_at: '2026-11-30T08:15:00.120Z' });

    const messages = await h.request('GET', api(t, `/messages/conversation/${conv.id}`), { token: agent });
    const message = await h.request('GET', api(t, `/messages/${sent.body.id}`), { token: agent });
    expect(messages.body.data).toEqual([message.body]);
    expect(message.body.content).toBe('Olá! "quoted" \\ and émoji 🌍');
  });

  it('filters by status, channel, priority, assignee, lead, spam, unread and q', async () => {
    const slug = await h.createTenant('filters');
    const tok = await h.token({ tenant: slug });
    const mk = async (body: Record<string, unknown>) =>
      (await h.request('POST', api(slug, '/conversations'), { token: tok, body: { channel: 'sms', ...body } })).body;
    const a = await mk({ contact_identifier: '+15550000001', contact_name: 'Maria Souza', priority: 'high' });
    const b = await mk({ channel: 'email', contact_identifier: 'joe@example.com', contact_name: 'Joe Bloggs' });
    const c = await mk({ contact_identifier: '+15550000003', contact_name: 'Spammy' });
    const user = randomUUID();
    await h.request('POST', api(slug, `/conversations/${b.id}/assign`), { token: tok, body: { user_id: user } });
    await h.request('POST', api(slug, `/conversations/${a.id}/qualify`), { token: tok, body: {} });
    await h.request('PUT', api(slug, `/conversations/${c.id}`), { token: tok, body: { is_spam: true } });
    await db.query(`update "${schemaOf(slug)}".inbox_conversations set unread_count = 2 where id = $1`, [b.id]);
    await db.query(
      `insert into "${schemaOf(slug)}".inbox_messages (conversation_id, direction, type, content, status) values ($1, 'in', 'text', 'Quero ir a Lisboa em maio', 'delivered')`,
      [b.id],
    );
    const ids = async (query: string) =>
      (await h.request('GET', api(slug, `/conversations${query}`), { token: tok })).body.data
        .map((x: { id: number }) => x.id)
        .sort();

    expect(await ids('')).toEqual([a.id, b.id].sort());
    expect(await ids('?is_spam=true')).toEqual([c.id]);
    expect(await ids('?status=qualified')).toEqual([a.id]);
    expect(await ids('?status=open,qualified')).toEqual([a.id, b.id].sort());
    expect(await ids('?channel=email')).toEqual([b.id]);
    expect(await ids('?priority=high')).toEqual([a.id]);
    expect(await ids(`?assigned_to=${user}`)).toEqual([b.id]);
    expect(await ids('?assigned_to=none')).toEqual([a.id]);
    expect(await ids('?is_lead=true')).toEqual([a.id]);
    expect(await ids('?unread=true')).toEqual([b.id]);
    expect(await ids('?q=maria')).toEqual([a.id]);
    expect(await ids('?q=joe%40example')).toEqual([b.id]);
    expect(await ids('?q=lisboa')).toEqual([b.id]);
    expect(await ids('?q=%25')).toEqual([]);
  });

  it('paginates every row exactly once while rows are being inserted', async () => {
    const slug = await h.createTenant('pages');
    const tok = await h.token({ tenant: slug });
    const schema = schemaOf(slug);
    await db.query(
      `insert into "${schema}".inbox_conversations (channel, contact_identifier, last_message_at)
       select 'sms', '+1555' || lpad(g::text, 7, '0'), now() - (g % 7) * interval '1 minute' from generate_series(1, 137) g`,
    );
    const before = (await db.query(`select id from "${schema}".inbox_conversations`)).rows.map((r) => r.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const res = await h.request('GET', api(slug, `/conversations?limit=10${cursor ? `&cursor=${cursor}` : ''}`), {
        token: tok,
      });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((x: { id: number }) => x.id));
      cursor = res.body.next_cursor;
      // Customers keep writing while the agent scrolls.
      inserted += 1;
      await db.query(`insert into "${schema}".inbox_conversations (channel, contact_identifier) values ('sms', $1)`, [
        `+1666${inserted}`,
      ]);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
  });

  it('a tenant A token can neither read nor change tenant B rows, even guessing ids', async () => {
    const a = await h.createTenant('iso-a');
    const b = await h.createTenant('iso-b');
    const tokA = await h.token({ tenant: a, role: 'tenant_admin' });
    const tokB = await h.token({ tenant: b });
    const convB = (
      await h.request('POST', api(b, '/conversations'), {
        token: tokB,
        body: { channel: 'sms', contact_identifier: '+15551112222' },
      })
    ).body;
    // Same id in A's own schema is a different row (or none).
    expect((await h.request('GET', api(a, `/conversations/${convB.id}`), { token: tokA })).status).toBe(404);
    for (const [method, path, body] of [
      ['GET', `/conversations/${convB.id}`, undefined],
      ['PUT', `/conversations/${convB.id}`, { priority: 'low' }],
      ['DELETE', `/conversations/${convB.id}`, undefined],
      ['POST', '/messages', { conversation_id: convB.id, content: 'hi' }],
      ['GET', '/quick-replies', undefined],
      ['GET', '/channel-accounts', undefined],
    ] as const) {
      const res = await h.request(method, api(b, path), { token: tokA, body });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const row = await db.query(`select priority, status from "${schemaOf(b)}".inbox_conversations where id = $1`, [
      convB.id,
    ]);
    expect(row.rows[0]).toEqual({ priority: 'normal', status: 'new' });
  });
});

describe('messages', () => {
  it('stores a reply as pending (202), marks the conversation replied and lists it', async () => {
    const conv = await newConversation();
    const res = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, content: 'Olá! How can we help?' },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      conversation_id: conv.id,
      direction: 'out',
      type: 'text',
      status: 'pending',
      sent_by: agentId,
      content: 'Olá! How can we help?',
    });
    const after = (await h.request('GET', api(t, `/conversations/${conv.id}`), { token: agent })).body;
    expect(after).toMatchObject({
      status: 'replied',
      message_count: 1,
      last_message: 'Olá! How can we help?',
      unread_count: 0,
    });
    const list = await h.request('GET', api(t, `/messages/conversation/${conv.id}`), { token: agent });
    expect(list.body.data.map((m: { id: number }) => m.id)).toEqual([res.body.id]);
  });

  it('refuses empty text, media without url, and a missing conversation', async () => {
    const conv = await newConversation();
    const empty = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, content: '  ' },
    });
    expect(empty.status).toBe(422);
    expect(empty.body.errors[0].field).toBe('content');
    const img = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, type: 'image' },
    });
    expect(img.status).toBe(422);
    expect(img.body.errors[0].field).toBe('media_url');
    expect(
      (await h.request('POST', api(t, '/messages'), { token: agent, body: { conversation_id: 987654, content: 'x' } }))
        .status,
    ).toBe(404);
  });

  it('answers 422 for a WhatsApp free-form reply outside the 24-hour window, and accepts a template', async () => {
    const conv = await newConversation({ channel: 'whatsapp', contact_identifier: '5511999990000' });
    const never = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, content: 'hi' },
    });
    expect(never.status).toBe(422);
    expect(never.body.detail).toMatch(/24-hour/);
    await customerWroteAt(conv.id, new Date(Date.now() - 25 * 3600_000));
    expect(
      (
        await h.request('POST', api(t, '/messages'), {
          token: agent,
          body: { conversation_id: conv.id, content: 'hi' },
        })
      ).status,
    ).toBe(422);
    const tpl = await h.request('POST', api(t, '/messages'), {
      token: agent,
      body: { conversation_id: conv.id, template: { name: 'booking_followup', language: 'pt_BR' } },
    });
    expect(tpl.status).toBe(202);
    expect(tpl.body.metadata.template.name).toBe('booking_followup');
    await customerWroteAt(conv.id, new Date(Date.now() - 23 * 3600_000));
    expect(
      (
        await h.request('POST', api(t, '/messages'), {
          token: agent,
          body: { conversation_id: conv.id, content: 'hi' },
        })
      ).status,
    ).toBe(202);
  });

  it('moves status only forward', async () => {
    const conv = await newConversation();
    const msg = (
      await h.request('POST', api(t, '/messages'), { token: agent, body: { conversation_id: conv.id, content: 'x' } })
    ).body;
    const put = (status: string, body: Record<string, unknown> = {}) =>
      h.request('PUT', api(t, `/messages/${msg.id}/status`), { token: agent, body: { status, ...body } });
    expect((await put('sent')).body.status).toBe('sent');
    expect((await put('read')).body.status).toBe('read');
    const back = await put('delivered');
    expect(back.status).toBe(409);
    expect(back.body.detail).toMatch(/read to delivered/);
    expect((await put('failed')).status).toBe(409);
    expect((await put('read')).status).toBe(200);
    const row = await db.query(`select status from "${schemaOf(t)}".inbox_messages where id = $1`, [msg.id]);
    expect(row.rows[0].status).toBe('read');
  });

  it('retries only a failed outbound message', async () => {
    const conv = await newConversation();
    const msg = (
      await h.request('POST', api(t, '/messages'), { token: agent, body: { conversation_id: conv.id, content: 'x' } })
    ).body;
    expect((await h.request('POST', api(t, `/messages/${msg.id}/retry`), { token: agent })).status).toBe(409);
    await h.request('PUT', api(t, `/messages/${msg.id}/status`), {
      token: agent,
      body: { status: 'failed', error: { code: '131026', message: 'undeliverable' } },
    });
    const retried = await h.request('POST', api(t, `/messages/${msg.id}/retry`), { token: agent });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ status: 'pending', error: null });
  });

  it('paginates messages newest first and oldest first', async () => {
    const conv = await newConversation();
    const ids: number[] = [];
    for (let i = 0; i < 7; i++)
      ids.push(
        (
          await h.request('POST', api(t, '/messages'), {
            token: agent,
            body: { conversation_id: conv.id, content: `m${i}` },
          })
        ).body.id,
      );
    const walk = async (order: string) => {
      const out: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await h.request(
          'GET',
          api(t, `/messages/conversation/${conv.id}?limit=3&order=${order}${cursor ? `&cursor=${cursor}` : ''}`),
          { token: agent },
        );
        out.push(...res.body.data.map((m: { id: number }) => m.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      return out;
    };
    expect(await walk('desc')).toEqual([...ids].reverse());
    expect(await walk('asc')).toEqual(ids);
  });
});

describe('quick replies', () => {
  it('CRUD with filters', async () => {
    const slug = await h.createTenant('qr');
    const tok = await h.token({ tenant: slug });
    const mk = async (body: Record<string, unknown>) =>
      (await h.request('POST', api(slug, '/quick-replies'), { token: tok, body })).body;
    const a = await mk({
      title: 'Greeting',
      content: 'Hello {{contact_name}}!',
      category: 'general',
      shortcuts: ['/hi'],
    });
    const b = await mk({ title: 'Saudação', content: 'Olá {{first_name}}!', category: 'general', language: 'pt' });
    await mk({ title: 'Refund policy', content: 'Refunds take 5 days', category: 'billing', is_active: false });
    const ids = async (q: string) =>
      (await h.request('GET', api(slug, `/quick-replies${q}`), { token: tok })).body.data
        .map((x: { id: number }) => x.id)
        .sort();
    expect(await ids('?category=general')).toEqual([a.id, b.id].sort());
    expect(await ids('?language=pt')).toEqual([b.id]);
    expect((await ids('?is_active=false')).length).toBe(1);
    expect(await ids('?q=%2Fhi')).toEqual([a.id]);
    const upd = await h.request('PUT', api(slug, `/quick-replies/${a.id}`), { token: tok, body: { title: 'Hello' } });
    expect(upd.body.title).toBe('Hello');
    expect((await h.request('DELETE', api(slug, `/quick-replies/${b.id}`), { token: tok })).status).toBe(204);
    expect((await h.request('GET', api(slug, `/quick-replies/${b.id}`), { token: tok })).status).toBe(404);
  });

  it('renders variables, counts uses, and sends when given a conversation', async () => {
    const conv = await newConversation({ contact_name: 'Maria Souza' });
    const qr = (
      await h.request('POST', api(t, '/quick-replies'), {
        token: agent,
        body: {
          title: 'Greeting',
          content: 'Hi {{first_name}} ({{contact_name}}), your trip to {{destination}} is booked.',
        },
      })
    ).body;
    const preview = await h.request('POST', api(t, `/quick-replies/${qr.id}/use`), {
      token: agent,
      body: { variables: { destination: 'Lisbon' } },
    });
    expect(preview.body).toMatchObject({
      rendered: 'Hi {{first_name}} ({{contact_name}}), your trip to Lisbon is booked.',
      missing_variables: ['first_name', 'contact_name'],
      message: null,
    });
    expect(preview.body.quick_reply.usage_count).toBe(1);

    const missing = await h.request('POST', api(t, `/quick-replies/${qr.id}/use`), {
      token: agent,
      body: { conversation_id: conv.id },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0].field).toBe('variables.destination');

    const sent = await h.request('POST', api(t, `/quick-replies/${qr.id}/use`), {
      token: agent,
      body: { conversation_id: conv.id, variables: { destination: 'Lisbon' } },
    });
    expect(sent.status).toBe(200);
    expect(sent.body.rendered).toBe('Hi Maria (Maria Souza), your trip to Lisbon is booked.');
    expect(sent.body.message).toMatchObject({
      content: sent.body.rendered,
      status: 'pending',
      quick_reply_id: qr.id,
      conversation_id: conv.id,
    });
    expect(sent.body.quick_reply.usage_count).toBe(2);
    expect(sent.body.quick_reply.last_used_at).not.toBeNull();
  });
});

describe('channel accounts', () => {
  it('encrypts credentials at rest and never returns them', async () => {
    const admin = await h.token({ tenant: t, role: 'tenant_admin' });
    const secret = `EAAG-${randomUUID()}`;
    const res = await h.request('POST', api(t, '/channel-accounts'), {
      token: admin,
      body: {
        provider: 'whatsapp',
        name: 'Main WhatsApp',
        identifier: '106540352242922',
        credentials: { access_token: secret, app_secret: 'appsecret-xyz', verify_token: 'vt' },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.credentials).toEqual(['access_token', 'app_secret', 'verify_token']);
    expect(res.text).not.toContain(secret);
    const row = await db.query(`select credentials_encrypted from "${schemaOf(t)}".channel_accounts where id = $1`, [
      res.body.id,
    ]);
    expect(row.rows[0].credentials_encrypted).toMatch(/^v1:/);
    expect(row.rows[0].credentials_encrypted).not.toContain(secret);
    expect(Buffer.from(row.rows[0].credentials_encrypted.split(':')[3], 'base64').toString()).not.toContain(secret);
    const { openCredentials } = await import('@comms/core/inbox');
    const stored = openCredentials(h.runtime, { credentialsEncrypted: row.rows[0].credentials_encrypted } as never);
    expect(stored.access_token).toBe(secret);

    for (const path of ['/channel-accounts', `/channel-accounts/${res.body.id}`]) {
      const got = await h.request('GET', api(t, path), { token: admin });
      expect(got.text).not.toContain(secret);
      expect(got.text).not.toContain('appsecret-xyz');
    }
    const upd = await h.request('PUT', api(t, `/channel-accounts/${res.body.id}`), {
      token: admin,
      body: { credentials: { verify_token: null, app_secret: 'rotated' } },
    });
    expect(upd.body.credentials).toEqual(['access_token', 'app_secret']);
    expect(upd.text).not.toContain('rotated');
  });

  it('validates provider, identifier and credential names; 409 on a duplicate; tenant admins only', async () => {
    const admin = await h.token({ tenant: t, role: 'tenant_admin' });
    const post = (body: Record<string, unknown>, token = admin) =>
      h.request('POST', api(t, '/channel-accounts'), { token, body });
    expect((await post({ provider: 'sms', name: 'Twilio', identifier: '555-1234' })).body.errors[0].field).toBe(
      'identifier',
    );
    expect(
      (await post({ provider: 'sms', name: 'Twilio', identifier: '+14155550100', credentials: { password: 'x' } })).body
        .errors[0].field,
    ).toBe('credentials.password');
    const ok = await post({
      provider: 'twilio_whatsapp',
      name: 'WA',
      identifier: 'whatsapp:+14155550199',
      credentials: { account_sid: 'AC1', auth_token: 'tok' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.identifier).toBe('+14155550199');
    expect((await post({ provider: 'twilio_whatsapp', name: 'WA2', identifier: '+14155550199' })).status).toBe(409);
    expect(
      (await post({ provider: 'email', name: 'Mail', identifier: 'Support@Inbound.Acme.example' })).body.identifier,
    ).toBe('support@inbound.acme.example');
    expect((await post({ provider: 'sms', name: 'x', identifier: '+14155550111' }, agent)).status).toBe(403);
    expect((await h.request('DELETE', api(t, `/channel-accounts/${ok.body.id}`), { token: admin })).status).toBe(204);
    expect((await h.request('GET', api(t, `/channel-accounts/${ok.body.id}`), { token: admin })).status).toBe(404);
    // The identifier is free again.
    expect((await post({ provider: 'twilio_whatsapp', name: 'WA3', identifier: '+14155550199' })).status).toBe(201);
  });
});

describe('platform endpoints', () => {
  it('serves health, readiness, metrics, OpenAPI and the docs pages without a CDN', async () => {
    expect((await h.request('GET', '/health', { token: null })).body).toEqual({ status: 'ok' });
    const ready = await h.request('GET', '/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
    const spec = await h.request('GET', '/openapi.json', { token: null });
    expect(spec.body.openapi).toMatch(/^3\./);
    const ops = Object.values(
      spec.body.paths as Record<string, Record<string, { operationId?: string; responses: object }>>,
    ).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(20);
    for (const op of ops) expect(op.operationId).toBeTruthy();
    expect(
      spec.body.paths['/api/v1/tenants/{tenant}/communications/conversations'].get.parameters.map(
        (p: { name: string }) => p.name,
      ),
    ).toEqual(
      expect.arrayContaining([
        'status',
        'channel',
        'priority',
        'assigned_to',
        'is_lead',
        'is_spam',
        'unread',
        'q',
        'limit',
        'cursor',
      ]),
    );
    for (const page of ['/docs', '/redoc']) {
      const html = await h.request('GET', page, { token: null });
      expect(html.status).toBe(200);
      expect(html.text).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
      for (const src of html.text.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)) {
        const asset = await fetch(h.url + src[1]);
        expect(asset.status, src[1]).toBe(200);
        expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
      }
    }
    await h.request('GET', api(t, '/conversations'), { token: agent });
    const metrics = await h.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(
      /http_requests_total\{method="GET",route="\/api\/v1\/tenants\/:tenant\/communications\/conversations",status="200"\} \d+/,
    );
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
    expect(metrics.text).not.toContain(t);
  });

  it("answers every request with an x-request-id: the caller's when well-formed, else a new one", async () => {
    const kinds = [
      ['GET', api(t, '/conversations?limit=2')], // a page assembled from pre-rendered rows (JsonPage)
      ['GET', '/health'], // c.json
      ['GET', api(t, '/conversations/999999999')], // a problem
      ['HEAD', api(t, '/conversations?limit=2')], // Hono answers HEAD with a copy of the GET response
    ] as const;
    for (const [method, path] of kinds) {
      const echoed = await h.request(method, path, { token: agent, headers: { 'x-request-id': 'trace.abc-123' } });
      expect(echoed.headers.get('x-request-id'), path).toBe('trace.abc-123');
      const fresh = await h.request(method, path, { token: agent, headers: { 'x-request-id': 'bad id!' } });
      expect(fresh.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }
    const page = await h.request('GET', api(t, '/conversations?limit=2'), { token: agent });
    expect(page.headers.get('content-length')).toBe(String(Buffer.byteLength(page.text)));
    expect(Array.isArray(page.body.data)).toBe(true);
  });

  it('logs one line per request: id, method, route template, status and duration; no token, body or contact', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logged = await startApi({
      logRequests: true,
      realtime: false,
      overrides: { log: createLogger({ level: 'info', destination }) },
    });
    try {
      const slug = await logged.createTenant('logs');
      const token = await logged.token({ tenant: slug, role: 'tenant_user' });
      const phone = '+15559876543';
      const created = await logged.request('POST', api(slug, '/conversations'), {
        token,
        headers: { 'x-request-id': 'log-check-1' },
        body: { channel: 'sms', contact_identifier: phone, contact_name: 'Secret Name' },
      });
      expect(created.status).toBe(201);
      const got = await logged.request('GET', api(slug, `/conversations/${created.body.id}`), { token });
      const missing = await logged.request('GET', api(slug, '/conversations/999999999'), { token });
      expect(missing.status).toBe(404);
      // pino writes asynchronously: wait for the four request lines (the tenant creation too) to arrive.
      const requests = () => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
      for (let i = 0; i < 50 && requests().length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      const byId = new Map(requests().map((l) => [l.request_id, l]));
      const route = '/api/v1/tenants/:tenant/communications/conversations';
      expect(byId.get('log-check-1')).toMatchObject({ method: 'POST', route, status: 201, level: 30 });
      expect(byId.get(got.headers.get('x-request-id'))).toMatchObject({
        method: 'GET',
        route: `${route}/:id`,
        status: 200,
      });
      expect(byId.get(missing.headers.get('x-request-id'))).toMatchObject({ status: 404 });
      expect(typeof byId.get('log-check-1').duration_ms).toBe('number');
      const all = lines.join('\n');
      for (const secret of [token, phone, 'Secret Name']) expect(all).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });

  it('answers 413 for an oversized body and 404 problem for an unknown route', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const res = await h.request('POST', api(t, '/conversations'), {
      token: agent,
      body: JSON.stringify({ channel: 'sms', contact_identifier: big }),
    });
    expect(res.status).toBe(413);
    const nf = await h.request('GET', '/nope', { token: null });
    expect(nf.status).toBe(404);
    expect(nf.headers.get('content-type')).toContain('application/problem+json');
  });
});
