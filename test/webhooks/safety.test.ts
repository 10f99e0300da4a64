// Outgoing webhooks (issue 15): the address guard, the outbox when the job is lost between the commit and the
// delivery, the embedded mode (PGlite and the in-process queue), and the secret kept out of the logs.
import { Writable } from 'node:stream';
import { createLogger } from '@comms/core/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';
import { type Stack, startStack } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

let guarded: Harness;
let receiver: Receiver;
beforeAll(async () => {
  guarded = await startApi({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
  receiver = await startReceiver();
});
afterAll(async () => {
  await guarded.close();
  await receiver.close();
});

describe('the address guard', () => {
  it('refuses loopback, private, link-local and metadata addresses, by IP or by a name resolving there', async () => {
    const tenant = await guarded.createTenant('whs');
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.7/hook',
      'https://192.168.1.20/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      // A host name that resolves to loopback (DNS, not the URL, says where it goes).
      'http://localhost:9/hook',
    ]) {
      const res = await guarded.request('POST', api(tenant, '/webhook-endpoints'), { body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body.detail, url).toMatch(/address/);
    }
    const none = await guarded.request('GET', api(tenant, '/webhook-endpoints'));
    expect(none.body.data).toEqual([]);
  });

  it('refuses at connect time what DNS resolves to a private address later (rebinding)', async () => {
    // The endpoint was saved while allowed (or while its name pointed elsewhere); at delivery time the guard runs
    // again on the address DNS gives, so the request is never made.
    const tenant = await guarded.createTenant('whs');
    const { webhookEndpoints } = (await guarded.runtime.tenants.resolve(tenant)).tables;
    await guarded.runtime.database.db.insert(webhookEndpoints).values({
      url: receiver.url.replace('127.0.0.1', 'localhost'),
      secretEncrypted: guarded.runtime.secrets.seal('whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0'),
    });
    const [ep] = await guarded.runtime.database.db.select().from(webhookEndpoints);
    const test = await guarded.request('POST', api(tenant, `/webhook-endpoints/${ep!.id}/test`));
    expect(test.status).toBe(202);
    // No worker in this harness: one attempt by hand, as the worker makes it.
    const { attemptDelivery, deliverySettings } = await import('@comms/core/webhooks');
    const ctx = guarded.runtime.context(await guarded.runtime.tenants.resolve(tenant));
    const outcome = await attemptDelivery(ctx, deliverySettings(guarded.runtime.config), test.body.id);
    expect(outcome.kind).toBe('retry');
    const log = await guarded.request('GET', api(tenant, `/webhook-endpoints/${ep!.id}/deliveries`));
    expect(log.body.data[0].attempts[0]).toMatchObject({
      status_code: null,
      error: expect.stringMatching(/refused: localhost resolves to a loopback address/),
    });
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses plain http when it is not allowed', async () => {
    const h = await startApi({ env: { WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_PRIVATE: 'true' } });
    try {
      const tenant = await h.createTenant('whs');
      const res = await h.request('POST', api(tenant, '/webhook-endpoints'), { body: { url: receiver.url } });
      expect(res.status).toBe(422);
      expect(res.body.detail).toMatch(/must be https/);
    } finally {
      await h.close();
    }
  });
});

describe('an endpoint that keeps failing', () => {
  it('is disabled once every attempt has failed for WEBHOOK_DISABLE_AFTER_MS, and the admins are told', async () => {
    const tenant = await guarded.createTenant('whs');
    const failing = await startReceiver(() => 500);
    const admin = await guarded.ws(tenant, await guarded.token({ tenant, role: 'tenant_admin' }));
    try {
      const { webhookEndpoints } = (await guarded.runtime.tenants.resolve(tenant)).tables;
      const [ep] = await guarded.runtime.database.db
        .insert(webhookEndpoints)
        .values({ url: failing.url, secretEncrypted: guarded.runtime.secrets.seal(`whsec_${'a'.repeat(44)}`) })
        .returning();
      const { attemptDelivery, deliverySettings } = await import('@comms/core/webhooks');
      // The production schedule, with the 5 days shortened to 200 ms; attempts made by hand, as the worker does.
      const settings = { ...deliverySettings(guarded.runtime.config), allowPrivate: true, disableAfterMs: 200 };
      const ctx = guarded.runtime.context(await guarded.runtime.tenants.resolve(tenant));
      const test = await guarded.request('POST', api(tenant, `/webhook-endpoints/${ep!.id}/test`));
      expect(await attemptDelivery(ctx, settings, test.body.id)).toMatchObject({ kind: 'retry', attempts: 1 });
      await new Promise((res) => setTimeout(res, 250));
      expect(await attemptDelivery(ctx, settings, test.body.id, { force: true })).toEqual({ kind: 'failed' });
      const frame = await admin.waitFor((f) => f.type === 'webhook_endpoint_disabled');
      expect(frame.data).toMatchObject({ endpoint_id: ep!.id, reason: expect.stringMatching(/every attempt failed/) });
      const got = await guarded.request('GET', api(tenant, `/webhook-endpoints/${ep!.id}`));
      expect(got.body).toMatchObject({ enabled: false });
      expect(failing.received).toHaveLength(2);
    } finally {
      await admin.close();
      await failing.close();
    }
  });
});

describe('the outbox', () => {
  let first: Stack;
  let second: Stack;
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('loses nothing when the delivery job is lost between the commit and the delivery: the sweeper sends it', async () => {
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true' };
    // A process whose worker never runs: the change commits with its delivery row, and the job it queued is
    // lost with its Redis keys (this harness's queue prefix is never consumed).
    first = await startStack({ redis: true, worker: false, env });
    const tenant = await first.createTenant('whs');
    const r = await startReceiver();
    try {
      const ep = await first.request('POST', api(tenant, '/webhook-endpoints'), {
        body: { url: r.url, event_types: ['conversation_created'] },
      });
      expect(ep.status).toBe(201);
      const conv = await first.request('POST', api(tenant, '/conversations'), {
        body: { channel: 'email', contact_identifier: 'ana@example.com', contact_name: 'Ana' },
      });
      expect(conv.status).toBe(201);
      const rows = await first.runtime.database.db.execute(
        `select status, event_type from "${schemaOf(tenant)}".webhook_deliveries` as never,
      );
      expect((rows as unknown as { rows: unknown[] }).rows).toEqual([
        { status: 'pending', event_type: 'conversation_created' },
      ]);
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received).toHaveLength(0);

      // Another worker, on a queue that never saw the job: its sweeper finds the row and sends it.
      second = await startStack({ redis: true, worker: { webhookSweepAfterMs: 0 }, env });
      const queued = await second.worker!.sweep();
      expect(queued).toBeGreaterThanOrEqual(1);
      const [got] = await r.waitFor(1);
      expect(got!.json).toMatchObject({ type: 'conversation_created', data: { id: conv.body.id, channel: 'email' } });
      expect(r.verifies(got!, ep.body.secret)).toBe(true);
      const log = await eventually(
        () => second.request('GET', api(tenant, `/webhook-endpoints/${ep.body.id}/deliveries`)),
        (res) => res.body.data[0]?.status === 'succeeded',
      );
      expect(log.body.data[0].event_id).toBe(got!.id);
      // A second sweep sends nothing again: the delivery is done.
      await second.worker!.sweep();
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received).toHaveLength(1);
    } finally {
      await r.close();
    }
  });
});

describe('embedded mode', () => {
  it('delivers on PGlite with the in-process queue, and never logs the secret', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const h = await startStack({
      worker: true,
      logRequests: true,
      overrides: { log },
      env: {
        DATABASE_URL: undefined,
        PGLITE_DIR: 'memory://',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: '0,0.3',
      },
    });
    const r = await startReceiver((n) => (n === 0 ? 500 : 200));
    try {
      expect(h.runtime.database.kind).toBe('pglite');
      expect(h.runtime.queues.kind).toBe('in-process');
      const tenant = await h.createTenant('whe');
      const ep = await h.request('POST', api(tenant, '/webhook-endpoints'), { body: { url: r.url } });
      expect(ep.status, ep.text).toBe(201);
      const conv = await h.request('POST', api(tenant, '/conversations'), {
        body: { channel: 'sms', contact_identifier: '+14155550100' },
      });
      expect(conv.status).toBe(201);
      const got = await r.waitFor(2);
      expect(got[0]!.id).toBe(got[1]!.id);
      expect(got[1]!.json.type).toBe('conversation_created');
      expect(r.verifies(got[1]!, ep.body.secret)).toBe(true);
      await h.request('POST', api(tenant, `/webhook-endpoints/${ep.body.id}/rotate-secret`));
      expect(lines.length).toBeGreaterThan(3);
      const secretPart = ep.body.secret.slice('whsec_'.length);
      expect(lines.filter((l) => l.includes(secretPart))).toEqual([]);
    } finally {
      await r.close();
      await h.close();
    }
  }, 120_000);
});
