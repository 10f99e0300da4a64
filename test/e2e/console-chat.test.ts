// The agent console's team chat, settings and quality bars in Chromium (issue 18): two agents in two browser
// contexts chatting live (messages, typing, reactions, mentions), the settings of a tenant admin (channel
// accounts with write-only secrets, SES included, spam rules, webhook endpoints), axe-core on the main
// views, 360 px wide, and the first-load JavaScript budget. Screenshots of the main views go to
// test/e2e/screenshots/ (the README's come from there).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { screenshot, seriousViolations } from '../support/browser.js';
import { startReceiver } from '../support/webhook-receiver.js';
import {
  agent,
  api,
  customerWrites,
  h,
  page,
  randomWaId,
  signIn,
  tenantGet,
  until,
  useConsoleStack,
  whatsappTenant,
} from '../support/console-stack.js';

useConsoleStack();

const T = { timeout: 120_000 };

async function teamChannel(tenant: string, members: { id: string }[], name: string) {
  const res = await h.request('POST', api(tenant, '/channels'), {
    body: { type: 'public', name, member_ids: members.map((m) => m.id) },
  });
  expect(res.status).toBe(201);
  for (const m of members)
    await h.request('PUT', api(tenant, `/channels/${res.body.id}/members/${m.id}`), {
      body: { nickname: m === members[0] ? 'Alice' : 'Bob' },
    });
  return res.body.id as number;
}

describe('the agent console: team chat', () => {
  it('two agents see each other’s messages, typing, reactions and mentions live', T, async () => {
    const { tenant } = await whatsappTenant();
    const alice = await agent(tenant);
    const bob = await agent(tenant);
    const channel = await teamChannel(tenant, [alice, bob], 'Lisbon desk');
    const a = await page();
    const b = await page();
    await signIn(a, alice, `chat/${channel}`);
    await signIn(b, bob, `chat/${channel}`);
    for (const p of [a, b]) {
      await p.page.getByRole('heading', { name: '# Lisbon desk' }).waitFor();
      await p.page.getByText('Live', { exact: true }).waitFor();
    }

    const box = a.page.getByLabel('Message', { exact: true });
    await box.pressSequentially('Who takes ', { delay: 20 });
    await b.page.getByTestId('typing').filter({ hasText: 'Alice is typing…' }).waitFor({ timeout: 10_000 });
    await box.pressSequentially('@Bo');
    await a.page.getByRole('option', { name: '@Bob' }).waitFor();
    await box.press('Enter');
    await box.pressSequentially('the 10:00 group?');
    await box.press('Enter');

    const onB = b.page.locator('li.entry', { hasText: 'the 10:00 group?' });
    await onB.waitFor({ timeout: 10_000 });
    expect(await onB.locator('.mention').textContent()).toBe('@Bob');
    expect(await b.page.getByTestId('typing').textContent()).toBe('');
    const stored = (await tenantGet(tenant, `/chat/channels/${channel}/messages`, bob.token)).data[0];
    expect(stored.content).toBe(`Who takes <@${bob.id}> the 10:00 group?`);

    await onB.getByRole('button', { name: 'React 👍' }).click();
    const onA = a.page.locator('li.entry', { hasText: 'the 10:00 group?' });
    await onA.getByRole('button', { name: /^👍 1/ }).waitFor({ timeout: 10_000 });

    await b.page.getByLabel('Message', { exact: true }).fill('I do.');
    await b.page.getByLabel('Message', { exact: true }).press('Enter');
    await a.page.locator('li.entry', { hasText: 'I do.' }).waitFor({ timeout: 10_000 });

    // Edits and deletes reach the other side too.
    await onA.getByRole('button', { name: 'Edit' }).click();
    await a.page.getByLabel('Edit message').fill(`Who takes <@${bob.id}> the 11:00 group?`);
    await a.page.getByRole('button', { name: 'Save' }).click();
    await b.page
      .locator('li.entry', { hasText: 'the 11:00 group?' })
      .getByText('(edited)')
      .waitFor({ timeout: 10_000 });

    // Read state: Bob has read everything, so the channel shows no unread count for him.
    expect(
      (
        await until(
          () => tenantGet(tenant, `/channels/${channel}`, bob.token),
          (c) => c.unread_count === 0,
        )
      ).unread_count,
    ).toBe(0);
    await screenshot(a.page, 'chat-two-agents-1280');
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});

describe('the agent console: settings and quality', () => {
  it('manages channel accounts with write-only secrets (SES included) and spam rules', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    const p = await page();
    await signIn(p, admin, 'settings');
    await p.page.getByRole('heading', { name: 'Channel accounts' }).waitFor();
    await p.page.getByRole('button', { name: 'Add account' }).click();
    await p.page.getByLabel('Provider').selectOption('sms');
    await p.page.getByLabel('Name', { exact: true }).fill('Front desk SMS');
    await p.page.getByLabel(/^Identifier/).fill('+14155550123');
    await p.page.getByLabel('account_sid').fill('AC0123456789abcdef0123456789abcdef');
    await p.page.getByLabel('auth_token').fill('super-secret-auth-token');
    await p.page.getByRole('button', { name: 'Create' }).click();
    await p.page.getByRole('cell', { name: 'Front desk SMS', exact: true }).waitFor();
    expect(await p.page.content()).not.toContain('super-secret-auth-token');
    const accounts = (await tenantGet(tenant, '/channel-accounts')).data;
    expect(accounts.find((x: { name: string }) => x.name === 'Front desk SMS')).toMatchObject({
      provider: 'sms',
      identifier: '+14155550123',
      credentials: expect.arrayContaining(['account_sid', 'auth_token']),
    });

    await p.page.getByLabel('Keywords (one a line)').fill('casino\nfree money');
    await p.page.getByRole('button', { name: 'Save spam rules' }).click();
    await p.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await tenantGet(tenant, '/settings/spam')).keywords).toEqual(['casino', 'free money']);

    // An email account through Amazon SES: its settings, its keys write-only.
    await p.page.getByRole('button', { name: 'Add account' }).click();
    await p.page.getByLabel('Provider').selectOption('email');
    await p.page.getByLabel('Transport').selectOption('ses');
    await p.page.getByLabel('Name', { exact: true }).fill('Bookings by SES');
    await p.page.getByLabel(/^Identifier/).fill('bookings@inbound.acme.example');
    await p.page.getByLabel('Region').fill('eu-west-1');
    await p.page.getByLabel(/^SNS topic ARNs/).fill('arn:aws:sns:eu-west-1:123456789012:acme-ses');
    await p.page.getByLabel(/^From address/).fill('bookings@acme.example');
    await p.page.getByLabel(/^Configuration set/).fill('acme-events');
    await p.page.getByLabel('access_key_id').fill('AKIACONSOLEEXAMPLE');
    await p.page.getByLabel('secret_access_key').fill('super-secret-aws-key');
    await p.page.getByRole('button', { name: 'Create' }).click();
    await p.page.getByRole('cell', { name: 'Email (Amazon SES)', exact: true }).waitFor();
    expect(await p.page.content()).not.toContain('super-secret-aws-key');
    const all = (await tenantGet(tenant, '/channel-accounts')).data;
    expect(all.find((x: { name: string }) => x.name === 'Bookings by SES')).toMatchObject({
      provider: 'email',
      transport: 'ses',
      identifier: 'bookings@inbound.acme.example',
      credentials: expect.arrayContaining(['access_key_id', 'secret_access_key']),
      ses: {
        region: 'eu-west-1',
        from_email: 'bookings@acme.example',
        configuration_set: 'acme-events',
        sns_topic_arns: ['arn:aws:sns:eu-west-1:123456789012:acme-ses'],
      },
    });
    await screenshot(p.page, 'settings-1280');
    expect(p.errors).toEqual([]);
  });

  it(
    'manages webhook endpoints: the secret shown once, a signed test event received, the log, retry, disable, delete',
    T,
    async () => {
      const { tenant, admin } = await whatsappTenant();
      const receiver = await startReceiver();
      try {
        const p = await page();
        // Rotation and deletion ask first.
        p.page.on('dialog', (d) => void d.accept());
        await signIn(p, admin, 'settings');
        const hooks = p.page.getByRole('region', { name: 'Webhook endpoints' });
        await hooks.getByRole('button', { name: 'Add endpoint' }).click();
        await hooks.getByLabel('URL').fill(receiver.url);
        await hooks.getByLabel('Description').fill('Our CRM');
        await hooks.getByRole('checkbox', { name: 'message_received' }).check();
        await hooks.getByRole('checkbox', { name: 'WhatsApp', exact: true }).check();
        await hooks.getByRole('button', { name: 'Create endpoint' }).click();
        const secret = (await hooks.getByTestId('webhook-secret').textContent())!.trim();
        expect(secret).toMatch(/^whsec_/);
        const [endpoint] = (await tenantGet(tenant, '/webhook-endpoints')).data;
        expect(endpoint).toMatchObject({
          url: receiver.url,
          description: 'Our CRM',
          event_types: ['message_received'],
          channels: ['whatsapp'],
          enabled: true,
        });
        expect(JSON.stringify(endpoint)).not.toContain(secret);
        await hooks.getByRole('button', { name: 'I have copied it' }).click();
        expect(await p.page.content()).not.toContain(secret);

        // A test event, signed with the secret the page showed (checked with the standardwebhooks package).
        await hooks.getByRole('button', { name: 'Send test' }).click();
        const [test] = await receiver.waitFor(1);
        expect(test!.json.type).toBe('webhook.test');
        expect(receiver.verifies(test!, secret)).toBe(true);
        await hooks.getByRole('button', { name: 'Deliveries' }).click();
        const delivery = hooks.getByTestId('webhook-delivery');
        await delivery.filter({ hasText: 'succeeded' }).waitFor();
        expect(await delivery.first().textContent()).toContain('webhook.test');
        await delivery.first().scrollIntoViewIfNeeded();
        await screenshot(p.page, 'settings-webhooks');

        // Retry sends the same event again, under the same webhook-id.
        await hooks.getByRole('button', { name: 'Send the webhook.test delivery again' }).click();
        const [, again] = await receiver.waitFor(2);
        expect(again!.id).toBe(test!.id);

        // A rotation shows the new secret once; the next test event verifies with it.
        await hooks.getByRole('button', { name: 'Rotate secret' }).click();
        const rotated = (await hooks.getByTestId('webhook-secret').textContent())!.trim();
        expect(rotated).toMatch(/^whsec_/);
        expect(rotated).not.toBe(secret);
        await hooks.getByRole('button', { name: 'I have copied it' }).click();
        await hooks.getByRole('button', { name: 'Send test' }).click();
        const third = (await receiver.waitFor(3))[2]!;
        expect(receiver.verifies(third, rotated)).toBe(true);

        await hooks.getByRole('button', { name: 'Disable' }).click();
        await hooks.getByText('disabled', { exact: true }).waitFor();
        expect((await tenantGet(tenant, '/webhook-endpoints')).data[0].enabled).toBe(false);
        await hooks.getByRole('button', { name: 'Delete' }).click();
        await hooks.getByText('No endpoints yet.').waitFor();
        expect((await tenantGet(tenant, '/webhook-endpoints')).data).toEqual([]);
        expect(p.errors).toEqual([]);
      } finally {
        await receiver.close();
      }
    },
  );

  it('has no serious axe-core violation on the main views, works 360 px wide, and is screenshotted', T, async () => {
    const { tenant, admin } = await whatsappTenant();
    await h.request('PUT', api(tenant, '/settings/spam'), { body: {} });
    for (const [name, text] of [
      ['Ana Souza', 'Is the Lisbon tour still available on Friday?'],
      ['Carlos Mendes', 'Can I change my booking to two adults and a child?'],
      ['Júlia Costa', 'Thanks, the transfer was perfect!'],
    ] as const)
      await customerWrites(tenant, randomWaId(), name, text);
    const conv = (await tenantGet(tenant, '/conversations?q=Ana')).data[0];
    await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conv.id, content: 'Yes! We have seats at 10:00 and 15:00.' },
    });
    const bob = await agent(tenant);
    const channel = await teamChannel(tenant, [admin, bob], 'Lisbon desk');
    const ask = await h.request('POST', api(tenant, `/chat/channels/${channel}/messages`), {
      token: bob.token,
      body: { content: `<@${admin.id}> can you call the Friday group about the pickup time?` },
    });
    const answer = await h.request('POST', api(tenant, `/chat/channels/${channel}/messages`), {
      token: admin.token,
      body: { content: 'On it: calling them now, pickup moves to 9:30.', reply_to_id: ask.body.id },
    });
    await h.request('POST', api(tenant, `/chat/messages/${answer.body.id}/reactions`), {
      token: bob.token,
      body: { emoji: '👍' },
    });

    const views: [string, string][] = [
      ['inbox-list', ''],
      ['conversation', `inbox/${conv.id}`],
      ['chat-channel', `chat/${channel}`],
      ['settings', 'settings'],
    ];
    for (const width of [1280, 360]) {
      const p = await page({ width, height: width === 360 ? 740 : 800 });
      await signIn(p, admin);
      for (const [name, path] of views) {
        await p.page.goto(`${new URL(p.page.url()).origin}/console/${path}`);
        await p.page
          .getByRole('heading', { level: width === 360 && path ? 2 : 1 })
          .first()
          .waitFor();
        await p.page.waitForLoadState('networkidle');
        if (name === 'conversation') await p.page.locator('.msg-text', { hasText: 'We have seats' }).waitFor();
        const violations = await seriousViolations(p.page);
        expect(
          violations.map((v) => `${name}@${width}: ${v.id} ${v.help} ${JSON.stringify(v.nodes.map((n) => n.target))}`),
        ).toEqual([]);
        const overflow = await p.page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
        expect(overflow as number, `${name} at ${width} px overflows`).toBeLessThanOrEqual(0);
        await screenshot(p.page, `${name}-${width}`);
      }
      expect(p.errors).toEqual([]);
    }
  });

  it('keeps the first-load JavaScript under 250 KB gzipped', () => {
    const script = fileURLToPath(new URL('../../apps/console/build.mjs', import.meta.url));
    const probe = `import(${JSON.stringify(script)}).then((m) => console.log(JSON.stringify(m.reportSize())))`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    const { gzip, scripts } = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(scripts.length).toBeGreaterThan(0);
    expect(gzip).toBeLessThan(250 * 1024);
  });
});
