// The retention of outgoing webhook deliveries (issue 15): finished deliveries (succeeded or failed) older than
// WEBHOOK_RETENTION_DAYS are deleted with their attempts by the worker's periodic prune (one runner per period
// across processes, core/src/platform/singleton.ts), in bounded batches; pending ones stay whatever their age.
// Against the real PostgreSQL and Redis.
import { sql } from '@comms/db';
import { pruneDeliveries } from '@comms/core/webhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';
import { type Stack, startStack } from '../support/stack.js';
import { eventually, schemaOf } from '../support/wait.js';

const DAY = 86_400_000;
const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETENTION_DAYS: '30' };

let stack: Stack | undefined;
let harness: Harness | undefined;
afterAll(async () => {
  await stack?.close();
  await harness?.close();
});

/**
 * An endpoint and deliveries of the given ages and statuses, each with `attempts` attempts; returns their ids in
 * the order given. Pending ones are due in a day, so no worker sends them meanwhile.
 */
async function seed(
  h: Harness,
  tenant: string,
  rows: { ageDays: number; status: 'succeeded' | 'failed' | 'pending'; attempts: number }[],
) {
  const ep = await h.request('POST', api(tenant, '/webhook-endpoints'), {
    body: { url: 'http://127.0.0.1:9/hooks', enabled: false },
  });
  expect(ep.status, ep.text).toBe(201);
  const s = sql.identifier(schemaOf(tenant));
  const ids: number[] = [];
  for (const [i, row] of rows.entries()) {
    const at = new Date(Date.now() - row.ageDays * DAY);
    const inserted = (await h.runtime.database.db.execute(
      sql`insert into ${s}.webhook_deliveries
                 (endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
          values (${ep.body.id}, ${`msg_retention${i}`}, 'message_received', '{"type":"message_received"}',
                  ${row.status}, ${row.attempts},
                  ${row.status === 'pending' ? new Date(Date.now() + DAY) : null}, ${at})
          returning id`,
    )) as unknown as { rows: { id: number }[] };
    const id = inserted.rows[0]!.id;
    for (let n = 0; n < row.attempts; n++)
      await h.runtime.database.db.execute(
        sql`insert into ${s}.webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms)
            values (${id}, ${at}, 500, 12)`,
      );
    ids.push(id);
  }
  return { endpointId: ep.body.id as number, ids };
}

async function remaining(h: Harness, tenant: string) {
  const s = sql.identifier(schemaOf(tenant));
  const deliveries = (await h.runtime.database.db.execute(
    sql`select id from ${s}.webhook_deliveries order by id`,
  )) as unknown as { rows: { id: number }[] };
  const attempts = (await h.runtime.database.db.execute(
    sql`select delivery_id, count(*)::int as n from ${s}.webhook_delivery_attempts group by 1 order by 1`,
  )) as unknown as { rows: { delivery_id: number; n: number }[] };
  return { deliveries: deliveries.rows.map((r) => r.id), attempts: attempts.rows };
}

describe('delivery retention', () => {
  it('prunes in bounded batches, oldest first, and never a pending delivery', async () => {
    harness = await startApi({ env });
    const h = harness;
    const tenant = await h.createTenant('whr');
    const { ids } = await seed(h, tenant, [
      { ageDays: 45, status: 'succeeded', attempts: 1 },
      { ageDays: 40, status: 'failed', attempts: 3 },
      { ageDays: 35, status: 'succeeded', attempts: 2 },
      { ageDays: 50, status: 'pending', attempts: 4 },
      { ageDays: 29, status: 'failed', attempts: 1 },
    ]);
    const [, , old, pending, recent] = ids as [number, number, number, number, number];
    const ctx = h.runtime.context(await h.runtime.tenants.resolve(tenant));

    // One statement of two rows: the two oldest finished ones go, with their attempts.
    expect(await pruneDeliveries(ctx, 30, { batch: 2, maxBatches: 1 })).toBe(2);
    expect(await remaining(h, tenant)).toEqual({
      deliveries: [old, pending, recent],
      attempts: [
        { delivery_id: old, n: 2 },
        { delivery_id: pending, n: 4 },
        { delivery_id: recent, n: 1 },
      ],
    });

    // Batches of one until nothing is left to prune: the 35-day-old one; the pending and the recent stay.
    expect(await pruneDeliveries(ctx, 30, { batch: 1 })).toBe(1);
    expect((await remaining(h, tenant)).deliveries).toEqual([pending, recent]);
    expect(await pruneDeliveries(ctx, 30, { batch: 1 })).toBe(0);

    // A shorter retention reaches the recent one too.
    expect(await pruneDeliveries(ctx, 28)).toBe(1);
    expect((await remaining(h, tenant)).deliveries).toEqual([pending]);
  });

  it("is the worker's periodic job: old deliveries leave the delivery log on their own", async () => {
    stack = await startStack({ redis: true, worker: { webhookPruneEveryMs: 300 }, env });
    const h = stack;
    const tenant = await h.createTenant('whr');
    const { endpointId, ids } = await seed(h, tenant, [
      { ageDays: 31, status: 'succeeded', attempts: 1 },
      { ageDays: 60, status: 'failed', attempts: 8 },
      { ageDays: 60, status: 'pending', attempts: 2 },
      { ageDays: 1, status: 'succeeded', attempts: 1 },
    ]);
    const [, , pending, recent] = ids as [number, number, number, number];
    const log = await eventually(
      () => h.request('GET', api(tenant, `/webhook-endpoints/${endpointId}/deliveries`)),
      (res) => res.body.data.length === 2,
    );
    // What the admin sees: the recent and the pending ones, newest first, with their attempts.
    expect(log.body.data.map((d: { id: number }) => d.id)).toEqual([recent, pending]);
    expect(log.body.data.map((d: { attempts: unknown[] }) => d.attempts.length)).toEqual([1, 2]);
    expect((await remaining(h, tenant)).attempts).toEqual([
      { delivery_id: pending, n: 2 },
      { delivery_id: recent, n: 1 },
    ]);
    // It ran as the singleton job (periodic_job_ticks_total names it).
    const metrics = await h.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(/periodic_job_ticks_total\{job="webhook-prune",outcome="ran"\} [1-9]/);
  });
});
