// Outgoing webhooks sent in batches (issue 15): an endpoint's due deliveries are claimed together, and what the
// batches must never do is checked here against the real PostgreSQL and Redis: send a delivery twice at once (two
// workers claiming the same endpoint), put more than WEBHOOK_ENDPOINT_CONCURRENCY requests in flight to one
// receiver, or let a slow receiver hold up another tenant's deliveries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverDue, deliverySettings } from '@comms/core/webhooks';
import { sql } from '@comms/db';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';
import { type Stack, startStack } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const closing: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const c of closing.reverse()) await c.close();
});

/** A receiver that answers 200 after `delayMs`, counting the requests it holds at once and every webhook-id. */
async function slowReceiver(delayMs: number) {
  const ids: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    ids.push(String(req.headers['webhook-id']));
    req.resume();
    setTimeout(() => {
      inFlight -= 1;
      res.writeHead(200);
      res.end('ok');
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const r = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    ids,
    max: () => maxInFlight,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  closing.push(r);
  return r;
}

async function endpoint(h: Harness, tenant: string, url: string): Promise<number> {
  const res = await h.request('POST', api(tenant, '/webhook-endpoints'), { body: { url } });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

describe('batches', () => {
  it('keep one slow receiver within WEBHOOK_ENDPOINT_CONCURRENCY, and another tenant is not held up by it', async () => {
    const h: Stack = await startStack({
      redis: true,
      worker: true,
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ENDPOINT_CONCURRENCY: '3', WEBHOOK_TIMEOUT_MS: '5000' },
    });
    closing.push(h);
    const slow = await slowReceiver(400);
    const fast: Receiver = await startReceiver();
    closing.push(fast);
    const busy = await h.createTenant('whb');
    const other = await h.createTenant('whb');
    const slowId = await endpoint(h, busy, slow.url);
    const fastId = await endpoint(h, other, fast.url);

    for (let i = 0; i < 15; i++)
      expect((await h.request('POST', api(busy, `/webhook-endpoints/${slowId}/test`))).status).toBe(202);
    const queuedAt = Date.now();
    for (let i = 0; i < 3; i++)
      expect((await h.request('POST', api(other, `/webhook-endpoints/${fastId}/test`))).status).toBe(202);

    // The other tenant's three arrive while the slow receiver still has most of its fifteen to get (3 at a time,
    // 400 ms each: two seconds).
    await fast.waitFor(3);
    expect(Date.now() - queuedAt).toBeLessThan(1_500);
    expect(slow.ids.length).toBeLessThan(15);

    const log = await eventually(
      () => h.request('GET', api(busy, `/webhook-endpoints/${slowId}/deliveries?limit=50`)),
      (res) => res.body.data.filter((d: { status: string }) => d.status === 'succeeded').length === 15,
    );
    expect(log.body.data).toHaveLength(15);
    for (const d of log.body.data) expect(d.attempts).toHaveLength(1);
    // Each once, and never more than three in flight to that receiver; three at a time, not one.
    expect(slow.ids).toHaveLength(15);
    expect(new Set(slow.ids).size).toBe(15);
    expect(slow.max()).toBe(3);
  });

  it('never sends a delivery twice when two workers claim the same endpoint at once', async () => {
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ENDPOINT_CONCURRENCY: '4' };
    const a = await startApi({ env });
    closing.push(a);
    const b = await startApi({ env });
    closing.push(b);
    const receiver = await slowReceiver(5);
    const tenant = await a.createTenant('whb');
    const id = await endpoint(a, tenant, receiver.url);
    // 60 deliveries due now, written as the outbox writes them (no worker runs in these harnesses).
    await a.runtime.database.db.execute(
      sql`insert into ${sql.identifier(schemaOf(tenant))}.webhook_deliveries
                 (endpoint_id, event_id, event_type, payload, next_attempt_at)
          select ${id}, 'msg_twice' || n, 'message_received', '{"type":"message_received","n":' || n || '}', now()
            from generate_series(1, 60) as n`,
    );
    // Each harness is a worker of its own (its own pool of connections): both claim the endpoint's due rows.
    const run = (h: Harness) =>
      h.runtime.tenants
        .resolve(tenant)
        .then((t) => deliverDue(h.runtime.context(t), deliverySettings(h.runtime.config), id));
    const [ra, rb] = await Promise.all([run(a), run(b)]);
    expect(ra.sent + rb.sent).toBe(60);
    expect(receiver.ids).toHaveLength(60);
    expect(new Set(receiver.ids).size).toBe(60);
    const rows = (await a.runtime.database.db.execute(
      sql`select status, attempts, locked_until from ${sql.identifier(schemaOf(tenant))}.webhook_deliveries`,
    )) as unknown as { rows: { status: string; attempts: number; locked_until: Date | null }[] };
    expect(rows.rows).toHaveLength(60);
    for (const row of rows.rows) expect(row).toEqual({ status: 'succeeded', attempts: 1, locked_until: null });
  });
});
