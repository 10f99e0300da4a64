/**
 * What the console's browser tests share: the whole service as `npm start` runs it (API with the console's built
 * files, gateway, worker; real PostgreSQL and Redis), a fake WhatsApp Cloud API on loopback, a TCP proxy in front of
 * the service (so a test can cut the browser's connections), and Chromium. Call `useConsoleStack()` at the top of
 * a test file. A failing test leaves screenshots of its pages under test/e2e/screenshots/.
 * WhatsApp's documented shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { signedMetaWebhook, whatsappStatus, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { hasChromium, launchChromium, openPage, screenshot, type WatchedPage } from './browser.js';
import { api } from './harness.js';
import { fake, h, useProviderStack } from './provider-stack.js';
import { createAccount } from './stack.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { eventually } from './wait.js';

export { fake, h } from './provider-stack.js';
export { api } from './harness.js';

export const APP_SECRET = 'wa-console-secret';
export const PHONE_ID = '106540352242922';

/** A 96×64 PNG in three bands (blue sky, sand, sea), the file the fake Cloud API serves for every media id. */
export const IMAGE_PNG = png(96, 64, (_x, y) => (y < 24 ? [80, 160, 230] : y < 40 ? [240, 220, 160] : [20, 110, 160]));

/** A truecolour PNG (RFC 2083: signature, IHDR, one zlib-deflated IDAT of filter-0 rows, IEND). */
function png(width: number, height: number, colour: (x: number, y: number) => number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) rows.set(colour(x, y), y * (1 + width * 3) + 1 + x * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const CONSOLE_BUILD = fileURLToPath(new URL('../../apps/console/build.mjs', import.meta.url));

export let browser: Browser;
export let proxy: TcpProxy;
/** The service as the browser reaches it: through the proxy. */
export let base: string;
const pages: WatchedPage[] = [];

export function useConsoleStack(): void {
  if (!hasChromium()) throw new Error('Chromium is missing at /usr/bin/chromium: apt-get install -y chromium');
  useProviderStack({
    responder: (req, n) => {
      // The two steps of a WhatsApp media download (media id → URL, URL → bytes):
      // https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media
      const media = req.method === 'GET' ? /^\/(\d{6,})$/.exec(req.path) : null;
      if (media)
        return {
          status: 200,
          body: {
            messaging_product: 'whatsapp',
            url: `${fake.url}/wa-cdn/${media[1]}`,
            mime_type: 'image/png',
            file_size: IMAGE_PNG.length,
            id: media[1],
          },
        };
      // The bytes a moment later, so that a conversation opened at once shows the file arriving live.
      if (req.method === 'GET' && req.path.startsWith('/wa-cdn/'))
        return new Promise((answer) =>
          setTimeout(() => answer({ status: 200, body: IMAGE_PNG, headers: { 'content-type': 'image/png' } }), 1_500),
        );
      return {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: '5511999990000', wa_id: '5511999990000' }],
          messages: [{ id: `wamid.console${n}` }],
        },
      };
    },
    worker: { sweepAfterMs: 0 },
    // Webhook endpoints on loopback receivers (the settings test).
    env: { WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  beforeAll(async () => {
    // As `npm start` does it, in a process of its own (its production NODE_ENV is not this test's).
    const build = spawnSync(process.execPath, [CONSOLE_BUILD], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`the console build failed: ${build.stderr}`);
    const port = Number(new URL(h.url).port);
    proxy = await startTcpProxy('127.0.0.1', port);
    base = `http://127.0.0.1:${proxy.port}`;
    browser = await launchChromium();
  }, 120_000);
  afterEach(async ({ task }) => {
    const failed = task.result?.state === 'fail' || (task.result?.errors?.length ?? 0) > 0;
    const open = pages.splice(0);
    for (const [i, p] of open.entries()) {
      if (failed) await screenshot(p.page, `failed-${task.name}-${i}`).catch(() => {});
      await p.context.close().catch(() => {});
    }
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
  });
}

/** A page whose screenshot is saved when the test fails, closed after the test. */
export async function page(viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const p = await openPage(browser, viewport);
  pages.push(p);
  return p;
}

export interface Agent {
  id: string;
  token: string;
}

/** A tenant with a WhatsApp account, and an admin of it. */
export async function whatsappTenant(): Promise<{ tenant: string; admin: Agent }> {
  const tenant = await h.createTenant('console');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-console' },
  });
  const id = randomUUID();
  return { tenant, admin: { id, token: await h.token({ tenant, role: 'tenant_admin', sub: id }) } };
}

export async function agent(tenant: string, role: 'tenant_user' | 'tenant_admin' = 'tenant_user'): Promise<Agent> {
  const id = randomUUID();
  return { id, token: await h.token({ tenant, role, sub: id }) };
}

/** Signs in through the development link (`/console/#token=…`) and waits for the inbox. */
export async function signIn(p: WatchedPage, who: Agent, path = ''): Promise<void> {
  await p.page.goto(`${base}/console/${path}#token=${who.token}`);
  await p.page.getByRole('heading', { level: 1 }).first().waitFor();
}

/** A customer's WhatsApp text, posted to the gateway signed as Meta signs it. */
export async function customerWrites(tenant: string, from: string, name: string, text: string, target = h.url) {
  const webhook = signedMetaWebhook(
    whatsappWebhook([whatsappText({ from, name, text })], { phoneNumberId: PHONE_ID }),
    APP_SECRET,
  );
  const res = await fetch(`${target}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...webhook });
  expect(res.status).toBe(200);
}

/** A customer's WhatsApp image (a media id the fake Cloud API serves), posted signed as Meta signs it. */
export async function customerSendsImage(tenant: string, from: string, name: string, caption: string) {
  const payload = whatsappWebhook(
    [
      {
        contacts: [{ profile: { name }, wa_id: from }],
        messages: [
          {
            from,
            id: `wamid.img${randomUUID()}`,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'image',
            image: { mime_type: 'image/png', sha256: 'x', id: String(Date.now()), caption },
          },
        ],
      } as never,
    ],
    { phoneNumberId: PHONE_ID },
  );
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, {
    method: 'POST',
    ...signedMetaWebhook(payload, APP_SECRET),
  });
  expect(res.status).toBe(200);
}

/** The provider reports a status of our outbound message, as a signed status webhook. */
export async function providerReports(tenant: string, wamid: string, recipient: string, status: 'delivered' | 'read') {
  const webhook = signedMetaWebhook(
    whatsappWebhook([whatsappStatus({ id: wamid, status, recipient })], { phoneNumberId: PHONE_ID }),
    APP_SECRET,
  );
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...webhook });
  expect(res.status).toBe(200);
}

export const tenantGet = async (tenant: string, path: string, token?: string) =>
  (await h.request('GET', api(tenant, path), token ? { token } : {})).body;

export const randomWaId = () => `55119${Math.floor(1e7 + Math.random() * 9e7)}`;

/** Polls until `ok` holds, and fails the test with the last value when it does not within `ms`. */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const v = await eventually(fn, ok, ms);
  if (!ok(v)) throw new Error(`still not as expected after ${ms} ms: ${JSON.stringify(v)}`);
  return v;
}
