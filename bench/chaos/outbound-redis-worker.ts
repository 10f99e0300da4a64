// Chaos: agents' replies enqueued at a steady rate (as POST /messages enqueues them) while the worker is killed
// with SIGKILL mid-batch and started again, and then Redis is killed and restarted empty (a Redis that keeps
// nothing on disk: every queued job is gone). The sweeper must find every reply left pending and send it.
// The audit: every accepted reply sent; provider calls per reply counted (a SIGKILL between the provider's
// answer and our commit can send one twice: measured, not hidden). Throwaway PostgreSQL and Redis of this run.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullQueues, createLogger } from '@comms/core/platform';
import { schemaNameFor } from '@comms/db';
import { startThrowawayRedis } from '@comms/test/throwaway';
import pg from 'pg';
import { type ServerProcess, startServer } from '../lib.js';
import { chaosDatabase } from './lib.js';

const SLUG = 'chaos-out';
const PHONE_ID = '106540352242922';
const RATE = 150; // replies a second
const SECONDS = 20;
const DRAIN_MS = 60_000;

export async function run() {
  const [postgres, redis] = await Promise.all([chaosDatabase(SLUG, 'Chaos outbound'), startThrowawayRedis()]);
  const schema = schemaNameFor(SLUG);

  // The fake WhatsApp: answers after a few milliseconds, like a provider, and counts calls per reply text.
  const calls = new Map<string, number>();
  /** When each reply text was first sent, for attributing a second send to the fault before it. */
  const firstCall = new Map<string, number>();
  let served = 0;
  const fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = (JSON.parse(Buffer.concat(chunks).toString()) as { text?: { body?: string } }).text?.body ?? '';
      calls.set(text, (calls.get(text) ?? 0) + 1);
      if (!firstCall.has(text)) firstCall.set(text, Date.now());
      served += 1;
      const id = `wamid.chaos.${served}`;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            messaging_product: 'whatsapp',
            messages: [{ id }],
          }),
        );
      }, 5);
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

  // A pool, as the API has: a PostgreSQL restart breaks its connections and it makes new ones.
  const db = new pg.Pool({ connectionString: postgres.url, max: 4 });
  db.on('error', () => {});
  const store = async (content: string, conversationId: number) => {
    try {
      return (
        await db.query(
          `insert into "${schema}".inbox_messages (conversation_id, channel_account_id, direction, type, content, status)
           values ($1, $2, 'out', 'text', $3, 'pending') returning id`,
          [conversationId, accountId, content],
        )
      ).rows;
    } catch {
      return null;
    }
  };
  const { rows: acct } = await db.query(
    `insert into "${schema}".channel_accounts (provider, name, identifier, settings) values ('whatsapp', 'Chaos', $1, '{"rate_limit_per_second": 100000}') returning id`,
    [PHONE_ID],
  );
  const accountId = acct[0].id as number;
  await db.query(
    `insert into "${schema}".inbox_conversations (channel, channel_account_id, contact_identifier, last_inbound_at)
     select 'whatsapp', $1, '5511' || lpad(g::text, 9, '0'), now() from generate_series(1, 500) g`,
    [accountId],
  );

  const workerEnv = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    WHATSAPP_API_URL: fakeUrl,
    WHATSAPP_API_KEY: 'chaos-token',
    NODE_ENV: 'test',
    JWT_SECRET: 'chaos-secret-0123456789abcdefghij',
    BENCH_SWEEP_EVERY_MS: '2000',
    BENCH_SWEEP_AFTER_MS: '5000',
    BENCH_LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'silent',
  };
  let worker: ServerProcess = await startServer('worker', workerEnv);
  const queues = createBullQueues(redis.url, createLogger({ level: 'silent' }), {});

  const started = Date.now();
  const faults: { what: string; at: number }[] = [];
  const killWorker = (async () => {
    await new Promise((r) => setTimeout(r, 5_000));
    faults.push({ what: 'worker killed (SIGKILL), started again 1 s later', at: Date.now() - started });
    const exited = new Promise((r) => worker.child.once('exit', r));
    worker.child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 1_000));
    worker = await startServer('worker', workerEnv);
  })();
  const restartRedis = (async () => {
    await new Promise((r) => setTimeout(r, 12_000));
    faults.push({ what: 'Redis killed and restarted empty after 2 s', at: Date.now() - started });
    await redis.restart(2_000);
  })();

  const restartPostgres = (async () => {
    await new Promise((r) => setTimeout(r, 16_000));
    faults.push({ what: 'PostgreSQL restarted (down 2 s) while sends are in flight', at: Date.now() - started });
    await postgres.restart(2_000);
  })();

  // Each reply stored pending, then enqueued; an enqueue that fails (Redis away) is left to the sweeper, as the
  // API does.
  let accepted = 0;
  let enqueueFailures = 0;
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = started + (i / RATE) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const rows = await store(`chaos reply ${i}`, 1 + (i % 500));
    if (!rows) continue; // the API would have answered 503: not accepted
    accepted += 1;
    await queues.add('outbound-send', { tenant: SLUG, message_id: rows[0]!.id }).catch(() => (enqueueFailures += 1));
  }
  await Promise.all([killWorker, restartRedis, restartPostgres]);

  const count = async (): Promise<Record<string, number>> => {
    const { rows } = await db.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from "${schema}".inbox_messages group by 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };
  const drainStarted = Date.now();
  let statuses = await count();
  while ((statuses.pending ?? 0) > 0 && Date.now() - drainStarted < DRAIN_MS) {
    await new Promise((r) => setTimeout(r, 500));
    statuses = await count();
  }
  const lastSent = (
    await db.query<{ at: Date }>(
      `select max(status_updated_at) as at from "${schema}".inbox_messages where status = 'sent'`,
    )
  ).rows[0]!.at;
  await worker.stop();
  await queues.close();
  await db.end();
  fake.close();
  await Promise.all([redis.stop(), postgres.stop()]);

  const sentTwice = [...calls.values()].filter((n) => n > 1).length;
  return {
    scenario: 'outbound replies while the worker is SIGKILLed, Redis restarts empty and PostgreSQL restarts',
    rate_per_s: RATE,
    duration_s: SECONDS,
    offered: RATE * SECONDS,
    accepted,
    enqueue_failures_left_to_sweeper: enqueueFailures,
    sent: statuses.sent ?? 0,
    failed: statuses.failed ?? 0,
    lost: statuses.pending ?? 0,
    provider_calls: [...calls.values()].reduce((a, b) => a + b, 0),
    sent_twice: sentTwice,
    all_sent_after_s: Math.round((lastSent.getTime() - started) / 100) / 10,
    faults: faults
      .sort((a, b) => a.at - b.at)
      .map((f, i, all) => {
        const end = all[i + 1]?.at ?? Number.POSITIVE_INFINITY;
        // A reply sent twice belongs to the last fault before its first send reached the provider... or after it.
        const twice = [...calls.entries()].filter(([text, n]) => {
          const at = (firstCall.get(text) ?? 0) - started;
          return n > 1 && at >= f.at - 1_000 && at < end - 1_000;
        }).length;
        return { fault: f.what, at_s: Math.round(f.at / 100) / 10, sent_twice_around_it: twice };
      }),
  };
}
