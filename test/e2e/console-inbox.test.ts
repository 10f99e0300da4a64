// The agent console's inbox in Chromium, against the service as `npm start` runs it (issue 18): sign-in, a WhatsApp
// message arriving live, a quick reply whose ticks follow the provider's statuses, filters and search, the
// conversation actions as the API then reports them, and recovery after the WebSocket is cut.
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import {
  agent,
  api,
  base,
  customerSendsImage,
  customerWrites,
  fake,
  h,
  IMAGE_PNG,
  page,
  providerReports,
  proxy,
  randomWaId,
  signIn,
  tenantGet,
  until,
  useConsoleStack,
  whatsappTenant,
} from '../support/console-stack.js';
import { db } from '../support/provider-stack.js';
import { schemaOf } from '../support/wait.js';

useConsoleStack();

const T = { timeout: 90_000 };

describe('the agent console: inbox', () => {
  it(
    'signs in from the development link, keeps the token out of the URL, and signs in with a pasted token',
    T,
    async () => {
      const { admin } = await whatsappTenant();
      const p = await page();
      await signIn(p, admin);
      expect(p.page.url()).toBe(`${base}/console/`);
      expect(p.page.url()).not.toContain('token');
      expect(await p.page.evaluate("sessionStorage.getItem('comms.console.session')")).toContain(admin.token);
      await p.page.getByRole('heading', { name: 'Inbox' }).waitFor();
      // `/` redirects to the console; the page is never cached, its hashed assets are, for a year.
      const root = await fetch(`${base}/`, { redirect: 'manual' });
      expect([301, 302]).toContain(root.status);
      expect(root.headers.get('location')).toBe('/console/');
      const html = await fetch(`${base}/console/inbox/1`);
      expect(html.headers.get('cache-control')).toBe('no-cache');
      const asset = /\/console\/assets\/[^"]+\.js/.exec(await html.text())![0];
      expect((await fetch(base + asset)).headers.get('cache-control')).toContain('immutable');

      const q = await page();
      await q.page.goto(`${base}/console/`);
      await q.page.getByLabel('Access token').fill('not a token');
      await q.page.getByRole('button', { name: 'Sign in' }).click();
      await q.page.getByRole('alert').filter({ hasText: 'not an access token' }).waitFor();
      await q.page.getByLabel('Access token').fill(admin.token);
      await q.page.getByRole('button', { name: 'Sign in' }).click();
      await q.page.getByRole('heading', { name: 'Inbox' }).waitFor();
      expect([...p.errors, ...q.errors]).toEqual([]);
    },
  );

  it('shows a WhatsApp message live, opens it, answers with a quick reply and follows its ticks', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    await h.request('POST', api(tenant, '/quick-replies'), {
      body: { title: 'Thanks', content: 'Hi {{first_name}}, thanks for writing! We are on it.', shortcuts: ['thanks'] },
    });
    const p = await page();
    await signIn(p, admin);
    await p.page.getByText('Live', { exact: true }).waitFor();
    const from = randomWaId();
    await customerWrites(tenant, from, 'Ana Souza', 'Is the Lisbon tour still available?');

    const row = p.page.getByRole('link', { name: /Ana Souza/ });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('Is the Lisbon tour still available?');
    await row.click();
    await p.page.getByRole('heading', { name: 'Ana Souza', level: 2 }).waitFor();
    await p.page
      .getByRole('list', { name: 'Messages with Ana Souza' })
      .getByText('Is the Lisbon tour still available?', { exact: true })
      .waitFor();
    expect(await p.page.getByTestId('reply-window').textContent()).toMatch(/window open: closes in 2\d h|23 h/);

    const reply = p.page.getByLabel('Reply');
    await reply.fill('/tha');
    const option = p.page.getByRole('option', { name: /Thanks/ });
    await option.waitFor();
    expect(await option.textContent()).toContain('Hi Ana, thanks for writing!');
    await reply.press('Enter');
    expect(await reply.inputValue()).toBe('Hi Ana, thanks for writing! We are on it.');
    await reply.press('Enter');

    const sent = p.page.locator('li.msg-out', { hasText: 'Hi Ana, thanks for writing!' });
    const tick = sent.locator('.tick');
    await tick.and(p.page.locator('[data-status="sent"]')).waitFor({ timeout: 15_000 });
    expect(await tick.getByText('Sent').count()).toBe(1);
    const out = fake.requests.find((r) => r.json?.to === from)!;
    expect(out.json.text.body).toBe('Hi Ana, thanks for writing! We are on it.');
    const messages = (
      await tenantGet(tenant, `/messages/conversation/${(await tenantGet(tenant, '/conversations')).data[0].id}`)
    ).data;
    const mine = messages.find((m: { direction: string }) => m.direction === 'out');
    expect(mine.quick_reply_id).not.toBeNull();

    await providerReports(tenant, mine.external_id, from, 'delivered');
    await tick.and(p.page.locator('[data-status="delivered"]')).waitFor({ timeout: 10_000 });
    await providerReports(tenant, mine.external_id, from, 'read');
    await tick.and(p.page.locator('[data-status="read"]')).waitFor({ timeout: 10_000 });
    expect(p.errors).toEqual([]);
  });

  it('shows an image the customer sent inline, live, once the worker has fetched it', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const p = await page();
    await signIn(p, admin);
    await p.page.getByText('Live', { exact: true }).waitFor();
    await customerSendsImage(tenant, randomWaId(), 'Rui Costa', 'My boarding pass');
    await p.page.getByRole('link', { name: /Rui Costa/ }).click();
    // Opened while the media-fetch job is still downloading (the fake CDN answers after 1.5 s): the item says so,
    // then its `message_updated` event shows the image without a reload. The browser reads the file through
    // GET /media/{id} with the agent's token: the image decoded means the bytes arrived whole.
    const messages = p.page.getByRole('list', { name: 'Messages with Rui Costa' });
    await messages.getByText('image/png file (being fetched)').waitFor();
    const image = messages.locator('img.attachment-image');
    await image.waitFor({ timeout: 15_000 });
    const size = await until(
      () =>
        image.evaluate((img: { complete: boolean; naturalWidth: number; naturalHeight: number }) =>
          img.complete ? [img.naturalWidth, img.naturalHeight] : [],
        ),
      (v) => v.length === 2,
    );
    expect(size).toEqual([96, 64]);
    await screenshot(p.page, 'inbox-image');
    const [conversation] = (await tenantGet(tenant, '/conversations')).data;
    const stored = (await tenantGet(tenant, `/messages/conversation/${conversation.id}`)).data[0];
    expect(stored.attachments[0]).toMatchObject({ status: 'stored', mime_type: 'image/png', size: IMAGE_PNG.length });
    expect(p.errors).toEqual([]);
  });

  it('shows a failed reply with the provider’s reason, and sends it again with Retry', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const from = randomWaId();
    await customerWrites(tenant, from, 'Hugo Alves', 'Do you have a transfer from the airport?');
    const conv = (await tenantGet(tenant, '/conversations')).data[0];
    // WhatsApp's answer to an undeliverable message (a permanent error): https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
    let calls = 0;
    fake.respond((req, n) =>
      req.json?.to === from && ++calls === 1
        ? {
            status: 400,
            body: {
              error: {
                message: '(#131026) Message undeliverable',
                type: 'OAuthException',
                code: 131026,
                fbtrace_id: 'A',
              },
            },
          }
        : {
            status: 200,
            body: {
              messaging_product: 'whatsapp',
              contacts: [{ input: from, wa_id: from }],
              messages: [{ id: `wamid.retry${n}` }],
            },
          },
    );
    const p = await page();
    await signIn(p, admin, `inbox/${conv.id}`);
    const reply = p.page.getByLabel('Reply');
    await reply.fill('Yes, at any hour.');
    await reply.press('Enter');
    const sent = p.page.locator('li.msg-out', { hasText: 'Yes, at any hour.' });
    await sent.getByText(/Not delivered: .*Message undeliverable.*131026/).waitFor({ timeout: 15_000 });
    expect(await sent.locator('.tick').getAttribute('data-status')).toBe('failed');
    await sent.getByRole('button', { name: 'Retry' }).click();
    await sent.locator('.tick[data-status="sent"]').waitFor({ timeout: 15_000 });
    expect(await sent.getByText('Not delivered').count()).toBe(0);
    expect(fake.requests.filter((r) => r.json?.to === from)).toHaveLength(2);
    expect(p.errors).toEqual([]);
  });

  it('offers a template once the 24-hour window is closed, and sends it', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const from = randomWaId();
    await customerWrites(tenant, from, 'Iris Prado', 'Thanks, see you in Porto');
    const conv = (await tenantGet(tenant, '/conversations')).data[0];
    // The customer wrote two days ago: as if the gateway had recorded that message then.
    await db.query(`update "${schemaOf(tenant)}".inbox_conversations set last_inbound_at = $1 where id = $2`, [
      new Date(Date.now() - 48 * 3600_000),
      conv.id,
    ]);
    const p = await page();
    await signIn(p, admin, `inbox/${conv.id}`);
    await p.page.getByTestId('reply-window').filter({ hasText: 'window is closed' }).waitFor();
    expect(await p.page.getByLabel('Reply').count()).toBe(0);
    await p.page.getByLabel('Template name').fill('booking_update');
    await p.page.getByLabel('Language').fill('pt_BR');
    await p.page.getByRole('button', { name: 'Send template' }).click();
    await p.page.locator('li.msg-out .tick[data-status="sent"]').waitFor({ timeout: 15_000 });
    const out = fake.requests.find((r) => r.json?.to === from)!;
    expect(out.json).toMatchObject({
      type: 'template',
      template: { name: 'booking_update', language: { code: 'pt_BR' } },
    });
    expect(p.errors).toEqual([]);
  });

  it('pages the list as it is scrolled: every conversation once, in order, until the last', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    // 120 conversations, one a minute: more than two of the console's pages of 50.
    await db.query(
      `insert into "${schemaOf(tenant)}".inbox_conversations
         (channel, contact_identifier, contact_name, status, last_message, last_message_at)
       select 'sms', '+1415700' || lpad(g::text, 4, '0'), 'Guest ' || g, 'open', 'Hello ' || g,
              now() - make_interval(mins => g)
         from generate_series(1, 120) g`,
    );
    const p = await page();
    await signIn(p, admin);
    const rows = p.page.locator('ul[aria-label="Conversations"] a.row');
    await until(
      () => rows.count(),
      (n) => n === 50,
    );
    for (const expected of [100, 120]) {
      await p.page.locator('li.more').scrollIntoViewIfNeeded();
      await until(
        () => rows.count(),
        (n) => n === expected,
      );
    }
    expect(await p.page.locator('li.more').count()).toBe(0);
    const names = await p.page.locator('ul[aria-label="Conversations"] .row-name').allTextContents();
    expect(names).toEqual(Array.from({ length: 120 }, (_, i) => `Guest ${i + 1}`));
    expect(p.errors).toEqual([]);
  });

  it('narrows the list with the filters and the search', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const make = async (name: string, extra: Record<string, unknown> = {}) =>
      (
        await h.request('POST', api(tenant, '/conversations'), {
          body: {
            channel: 'sms',
            contact_identifier: `+1415555${Math.floor(1000 + Math.random() * 8999)}`,
            contact_name: name,
            ...extra,
          },
        })
      ).body;
    await make('Bruno Lima');
    await make('Carla Dias', { priority: 'high' });
    const emailed = await make('Davi Rocha');
    await h.request('PUT', api(tenant, `/conversations/${emailed.id}`), {
      body: { is_spam: true, spam_reason: 'test' },
    });

    const p = await page();
    await signIn(p, admin);
    const rows = p.page.getByRole('list', { name: 'Conversations' }).getByRole('link');
    await until(
      () => rows.count(),
      (n) => n === 2,
    );

    await p.page.locator('summary', { hasText: 'Filters' }).click();
    await p.page.getByLabel('Priority').selectOption('high');
    await until(
      () => rows.allTextContents(),
      (t) => t.length === 1 && t[0]!.includes('Carla Dias'),
    );
    await p.page.getByLabel('Priority').selectOption('');
    await p.page.getByLabel('Spam').check();
    await until(
      () => rows.allTextContents(),
      (t) => t.length === 1 && t[0]!.includes('Davi Rocha'),
    );
    await p.page.getByLabel('Spam').uncheck();
    await p.page.getByLabel('Search conversations').fill('bruno');
    await until(
      () => rows.allTextContents(),
      (t) => t.length === 1 && t[0]!.includes('Bruno Lima'),
    );
    await p.page.getByLabel('Search conversations').fill('');
    await until(
      () => rows.count(),
      (n) => n === 2,
    );

    // Keyboard: the arrows move through the list, Enter opens the focused conversation.
    await rows.first().focus();
    await p.page.keyboard.press('ArrowDown');
    const focused = String(await p.page.evaluate("document.activeElement?.textContent ?? ''"));
    await p.page.keyboard.press('Enter');
    await p.page
      .getByRole('heading', { level: 2 })
      .filter({ hasText: focused.includes('Bruno') ? 'Bruno Lima' : 'Carla Dias' })
      .waitFor();
    expect(p.errors).toEqual([]);
  });

  it('assigns, qualifies and archives, and the API then says so', T, async () => {
    const { tenant } = await whatsappTenant();
    const me = await agent(tenant);
    await customerWrites(tenant, randomWaId(), 'Eva Nunes', 'I want to book for 4 people');
    const conv = (await tenantGet(tenant, '/conversations')).data[0];
    const p = await page();
    await signIn(p, me, `inbox/${conv.id}`);
    await p.page.getByRole('heading', { name: 'Eva Nunes', level: 2 }).waitFor();

    await p.page.getByRole('button', { name: 'Assign to me' }).click();
    await p.page.getByRole('button', { name: 'Unassign' }).waitFor();
    expect((await tenantGet(tenant, `/conversations/${conv.id}`)).assigned_to).toBe(me.id);

    await p.page.getByRole('button', { name: 'Qualify as lead' }).click();
    await p.page.getByLabel('Lead id (CRM, optional)').fill('CRM-42');
    await p.page.getByRole('button', { name: 'Qualify', exact: true }).click();
    await p.page.getByTestId('conv-status').filter({ hasText: 'qualified' }).waitFor();
    expect(await tenantGet(tenant, `/conversations/${conv.id}`)).toMatchObject({
      is_lead: true,
      lead_id: 'CRM-42',
      status: 'qualified',
    });

    await p.page.locator('#prio').selectOption('high');
    await until(
      () => tenantGet(tenant, `/conversations/${conv.id}`),
      (c) => c.priority === 'high',
    );

    await p.page.getByRole('button', { name: 'Archive' }).click();
    await p.page.getByTestId('conv-status').filter({ hasText: 'archived' }).waitFor();
    const after = await tenantGet(tenant, `/conversations/${conv.id}`);
    expect(after.status).toBe('archived');
    expect(after.archived_at).not.toBeNull();
    expect(p.errors).toEqual([]);
  });

  it('recovers after the WebSocket is cut: resumes with last_event_id and shows what it missed', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const p = await page();
    const sockets: string[] = [];
    p.page.on('websocket', (ws) => sockets.push(ws.url()));
    await signIn(p, admin);
    await p.page.getByText('Live', { exact: true }).waitFor();
    await customerWrites(tenant, randomWaId(), 'Fabio Reis', 'before the cut');
    await p.page.getByRole('link', { name: /Fabio Reis/ }).waitFor();

    await proxy.cut();
    await p.page.getByText('Reconnecting…').waitFor({ timeout: 10_000 });
    // Written while the console is disconnected: the gateway is reached directly, not through the cut proxy.
    await customerWrites(tenant, randomWaId(), 'Gloria Paz', 'during the cut');
    await proxy.restore();
    await p.page.getByText('Live', { exact: true }).waitFor({ timeout: 20_000 });
    await p.page.getByRole('link', { name: /Gloria Paz/ }).waitFor({ timeout: 10_000 });
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(sockets.at(-1)).toMatch(/[?&]last_event_id=[^&]+/);
    // The refused reconnects while cut are network errors of the browser, not of the console.
    expect(p.errors.filter((e) => !/WebSocket connection|ERR_CONNECTION|ERR_EMPTY_RESPONSE/.test(e))).toEqual([]);
  });
});
