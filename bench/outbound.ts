// `npm run bench -- outbound`: 20,000 replies (BENCH_REPLIES) through the worker (BullMQ on Redis) to a fake
// WhatsApp on loopback that answers at once: sends per second and enqueue-to-sent latency, beside its same-work
// ceiling (a bare BullMQ worker making the same provider call and the same UPDATE with raw pg, same concurrency)
// and BullMQ's own no-op job throughput, all in the same run, and a count of the provider calls (exactly one per
// reply). WORKER_PROCESSES=2 runs the worker as two processes, and then also measures a per-account rate limit
// of 20/s at the fake provider (it must hold across the processes).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullQueues, createLogger } from '@comms/core/platform';
import { createTenant, findTenant, migrateRegistry, openDatabase, purgeTenant, schemaNameFor } from '@comms/db';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, printTable, startServer, writeResult } from './lib.js';

const DB_URL = BENCH_DB_URL;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REPLIES = Number(process.env.BENCH_REPLIES ?? 20_000);
const CONCURRENCY = 50; // the outbound-send queue's worker concurrency (core/src/queue/definitions.ts)
const PHONE_ID = '106540352242922';
const LIMITED_PHONE_ID = '106540352242923';
const PACED = Number(process.env.BENCH_PACED ?? 2_000);
const WORKER_PROCESSES = process.env.WORKER_PROCESSES ?? '1';
const POOL = 10; // DB_POOL_SIZE's default, for the worker and the ceiling alike
const LIMITED = 200; // replies sent through an account limited to LIMIT a second
const LIMIT = 20;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!) : 0;
}

/** BullMQ alone: `count` no-op jobs queued, then one worker; jobs per second from its first to its last. */
async function noopCeiling(count: number) {
  const prefix = `bench-noop-${Date.now()}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  for (let i = 0; i < count; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({
        name: 'noop',
        data: { i: i + j },
        opts: { jobId: `n-${i + j}`, removeOnComplete: true },
      })),
    );
  const perSec = await new Promise<number>((resolve) => {
    let n = 0;
    let first = 0;
    const worker = new Worker('noop', async () => {}, {
      connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: CONCURRENCY,
    });
    worker.on('completed', async () => {
      n += 1;
      if (n === 1) first = performance.now();
      if (n === count) {
        const seconds = (performance.now() - first) / 1000;
        await worker.close();
        resolve(Math.round((count - 1) / seconds));
      }
    });
  });
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return perSec;
}

export async function run(): Promise<void> {
  await ensureBenchDatabase();

  const slug = 'bench-out';
  const database = await openDatabase({ url: DB_URL });
  await migrateRegistry(database.db);
  if (await findTenant(database.db, slug)) await purgeTenant(database.db, slug);
  await createTenant(database.db, { slug, name: 'Bench outbound' });
  await database.close();
  const schema = schemaNameFor(slug);

  // The fake provider: answers at once, counts calls per recipient.
  let total = 0;
  const limitedCalls: number[] = [];
  const fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      total += 1;
      if (req.url?.startsWith(`/${LIMITED_PHONE_ID}/`)) limitedCalls.push(performance.now());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [{ id: `wamid.out.${total}` }] }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

  // One account with its rate limit lifted (the fake has none), conversations whose customer just wrote,
  // and the replies as the API stores them: pending.
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  const { rows: acct } = await db.query(
    `insert into "${schema}".channel_accounts (provider, name, identifier, settings) values ('whatsapp', 'Bench', $1, '{"rate_limit_per_second": 1000000}') returning id`,
    [PHONE_ID],
  );
  const accountId = acct[0].id;
  // Credentials fall back to WHATSAPP_API_KEY: the worker gets one through its environment.
  await db.query(
    `insert into "${schema}".inbox_conversations (channel, channel_account_id, contact_identifier, last_inbound_at)
     select 'whatsapp', $1, '5511' || lpad(g::text, 9, '0'), now() from generate_series(1, 2000) g`,
    [accountId],
  );
  await db.query(
    `insert into "${schema}".inbox_messages (conversation_id, channel_account_id, direction, type, content, status)
     select 1 + (g % 2000), $1, 'out', 'text', 'reply ' || g, 'pending' from generate_series(1, ${REPLIES + PACED}) g`,
    [accountId],
  );
  const ids = (await db.query(`select id from "${schema}".inbox_messages order by id`)).rows.map((r) => r.id as number);

  const queues = createBullQueues(REDIS_URL, createLogger({ level: 'silent' }), { prefix: 'bench-out' });
  const enqueuedAt = new Map<number, number>();
  const sentCount = async () =>
    (await db.query(`select count(*)::int as n from "${schema}".inbox_messages where status = 'sent'`)).rows[0]
      .n as number;
  const waitFor = async (n: number) => {
    const until = Date.now() + 600_000;
    while ((await sentCount()) < n && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  };

  // 1. Throughput: every reply queued (as POST /messages queues them), then the worker starts on the backlog;
  // sends per second from its first send to its last, as the no-op ceiling is measured.
  const burst = ids.slice(0, REPLIES);
  for (let i = 0; i < burst.length; i += 200)
    await Promise.all(
      burst.slice(i, i + 200).map((id) => queues.add('outbound-send', { tenant: slug, message_id: id })),
    );
  const worker = await startServer('worker', {
    DATABASE_URL: DB_URL,
    REDIS_URL,
    WHATSAPP_API_URL: fakeUrl,
    WHATSAPP_API_KEY: 'bench-token',
    NODE_ENV: 'test',
    QUEUE_PREFIX: 'bench-out',
    JWT_SECRET: 'bench-secret-0123456789abcdefghij',
    DB_POOL_SIZE: String(POOL),
    WORKER_PROCESSES,
  });
  await waitFor(REPLIES);
  const { rows: burstRows } = await db.query(
    `select min(status_updated_at) as first, max(status_updated_at) as last from "${schema}".inbox_messages where status = 'sent'`,
  );
  const sendsPerSec = Math.round(
    (REPLIES - 1) / (((burstRows[0].last as Date).getTime() - (burstRows[0].first as Date).getTime()) / 1000),
  );

  // 2. Latency: replies arriving steadily at half that rate, as agents would send them.
  const paced = ids.slice(REPLIES);
  const rate = Math.max(10, Math.floor(sendsPerSec / 2));
  const pacedStart = Date.now();
  for (let i = 0; i < paced.length; i++) {
    const due = pacedStart + (i / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    enqueuedAt.set(paced[i]!, Date.now());
    await queues.add('outbound-send', { tenant: slug, message_id: paced[i]! });
  }
  await waitFor(REPLIES + PACED);
  const { rows: sent } = await db.query(
    `select id, status_updated_at from "${schema}".inbox_messages where status = 'sent' and id = any($1)`,
    [paced],
  );
  const latencies = sent
    .map((r) => (r.status_updated_at as Date).getTime() - enqueuedAt.get(r.id)!)
    .sort((a, b) => a - b);
  let totalSent = await sentCount();

  // 3. With several worker processes: an account limited to LIMIT a second, measured at the provider.
  let limited: { calls: number; per_sec: number } | null = null;
  if (WORKER_PROCESSES !== '1') {
    const { rows: la } = await db.query(
      `insert into "${schema}".channel_accounts (provider, name, identifier, settings) values ('whatsapp', 'Limited', $1, $2) returning id`,
      [LIMITED_PHONE_ID, { rate_limit_per_second: LIMIT }],
    );
    const { rows: lc } = await db.query(
      `insert into "${schema}".inbox_conversations (channel, channel_account_id, contact_identifier, last_inbound_at)
       values ('whatsapp', $1, '5511900000000', now()) returning id`,
      [la[0].id],
    );
    const { rows: lm } = await db.query(
      `insert into "${schema}".inbox_messages (conversation_id, channel_account_id, direction, type, content, status)
       select $1, $2, 'out', 'text', 'limited ' || g, 'pending' from generate_series(1, ${LIMITED}) g returning id`,
      [lc[0].id, la[0].id],
    );
    await Promise.all(lm.map((r) => queues.add('outbound-send', { tenant: slug, message_id: r.id })));
    await waitFor(totalSent + LIMITED);
    totalSent = await sentCount();
    // The first LIMIT may go out at once (the burst, as a provider's own limiter allows); the rate is what
    // follows: the intervals between the first call after the burst and the last, over the time between them
    // (timed from the first call instead, the burst's own queueing on the way to the provider inflates it).
    const after = limitedCalls.slice(LIMIT);
    const seconds = (after.at(-1)! - after[0]!) / 1000;
    limited = {
      calls: limitedCalls.length,
      per_sec: Math.round(((after.length - 1) / seconds) * 10) / 10,
    };
  }
  await worker.stop();
  await queues.close();

  // 4. The same-work ceiling: the same number of fresh replies, queued the same way, through a bare BullMQ worker.
  const before = await sentCount();
  const { rows: fresh } = await db.query(
    `insert into "${schema}".inbox_messages (conversation_id, channel_account_id, direction, type, content, status)
     select 1 + (g % 2000), $1, 'out', 'text', 'reply ' || g, 'pending' from generate_series(1, ${REPLIES}) g returning id`,
    [accountId],
  );
  const sameQueue = new Queue('same-work', {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: 'bench-out',
  });
  for (let i = 0; i < fresh.length; i += 1000)
    await sameQueue.addBulk(
      fresh.slice(i, i + 1000).map((r) => ({
        name: 'send',
        data: { message_id: r.id },
        opts: { jobId: `same-${r.id}`, removeOnComplete: true },
      })),
    );
  const callsBefore = total;
  const same = await startServer('same-work-worker', {
    DATABASE_URL: DB_URL,
    REDIS_URL,
    SCHEMA: schema,
    WHATSAPP_API_URL: fakeUrl,
    WHATSAPP_API_KEY: 'bench-token',
    QUEUE_PREFIX: 'bench-out',
    POOL_SIZE: String(POOL),
    CONCURRENCY: String(CONCURRENCY),
  });
  await waitFor(before + REPLIES);
  const { rows: sameRows } = await db.query(
    `select min(status_updated_at) as first, max(status_updated_at) as last from "${schema}".inbox_messages where id = any($1)`,
    [fresh.map((r) => r.id)],
  );
  const samePerSec = Math.round(
    (REPLIES - 1) / (((sameRows[0].last as Date).getTime() - (sameRows[0].first as Date).getTime()) / 1000),
  );
  const sameCalls = total - callsBefore;
  await same.stop();
  await sameQueue.obliterate({ force: true });
  await sameQueue.close();
  await db.end();
  fake.close();

  const noop = await noopCeiling(REPLIES);
  const rows = [
    {
      run: `BullMQ no-op jobs (ceiling), concurrency ${CONCURRENCY}`,
      per_sec: noop,
      p50_ms: '',
      p99_ms: '',
      vs_ceiling: '100%',
    },
    {
      run: `same-work ceiling: bare BullMQ worker + fetch + pg, concurrency ${CONCURRENCY}, ${REPLIES} queued`,
      per_sec: samePerSec,
      p50_ms: '',
      p99_ms: '',
      vs_ceiling: `${Math.round((samePerSec / noop) * 100)}% of no-op`,
    },
    {
      run: `outbound sends (${WORKER_PROCESSES} worker process${WORKER_PROCESSES === '1' ? '' : 'es'}), ${REPLIES} queued`,
      per_sec: sendsPerSec,
      p50_ms: '',
      p99_ms: '',
      vs_ceiling: `${Math.round((sendsPerSec / samePerSec) * 100)}% of same-work, ${Math.round((sendsPerSec / noop) * 100)}% of no-op`,
    },
    {
      run: `enqueue-to-sent, ${PACED} paced at ${rate}/s`,
      per_sec: rate,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      vs_ceiling: '',
    },
  ];
  printTable(rows);
  const integrity = {
    replies: REPLIES + PACED + (limited ? LIMITED : 0),
    sent: totalSent,
    provider_calls: total - sameCalls,
    ceiling_replies: REPLIES,
    ceiling_provider_calls: sameCalls,
  };
  console.table([integrity]);
  if (limited) console.table([{ limit_per_sec: LIMIT, worker_processes: WORKER_PROCESSES, ...limited }]);
  writeResult(WORKER_PROCESSES === '1' ? 'outbound' : `outbound-${WORKER_PROCESSES}-processes`, {
    setup: {
      replies: REPLIES,
      paced: PACED,
      concurrency: CONCURRENCY,
      pg_connections: POOL,
      worker_processes: WORKER_PROCESSES,
      provider: 'fake WhatsApp on loopback, answers at once',
      queue: 'BullMQ on Redis',
    },
    ceilings: {
      'BullMQ no-op': `BullMQ alone: no-op jobs, one worker at concurrency ${CONCURRENCY}, in the bench process (reference)`,
      'same-work ceiling': `a bare BullMQ worker process at concurrency ${CONCURRENCY}: per job a prepared select of the message, conversation and account, the same Graph API POST to the same fake provider (fetch), the same UPDATE (prepared), raw pg pool of ${POOL}; no validation, logs, metrics, rate limit, events or batching`,
    },
    targets: { min_fraction_of_same_work: 0.6, p99_ms_below: 200, provider_calls: integrity.replies },
    results: rows,
    integrity,
    ...(limited ? { rate_limit_across_processes: { limit_per_sec: LIMIT, ...limited } } : {}),
  });
}
