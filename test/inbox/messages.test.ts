// Inbox messages over HTTP against the real PostgreSQL: replies stored as pending, validation, WhatsApp's 24-hour
// window, forward-only status, retries of failed messages and pagination.
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { agent, agentId, customerWroteAt, db, h, newConversation, t, useInboxApi } from '../support/inbox-api.js';
import { schemaOf } from '../support/wait.js';

useInboxApi();

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
