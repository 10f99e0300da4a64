// Quick replies (canned responses) over HTTP against the real PostgreSQL: CRUD with filters, and using one: variables
// rendered, uses counted, the reply sent when given a conversation.
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { agent, h, newConversation, t, useInboxApi } from '../support/inbox-api.js';

useInboxApi();

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
