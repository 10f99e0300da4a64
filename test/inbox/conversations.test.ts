// Inbox conversations over HTTP against the real PostgreSQL: the lifecycle (assign, qualify, read, archive), one open
// conversation per contact, validation, list rendering, filters, pagination under inserts and tenant isolation.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { agent, agentId, customerWroteAt, db, h, newConversation, t, useInboxApi } from '../support/inbox-api.js';
import { schemaOf } from '../support/wait.js';

useInboxApi();

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
