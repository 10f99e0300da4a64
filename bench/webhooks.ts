// `npm run bench -- webhooks`: 20,000 events to 10 endpoints (2,000 each) on loopback receivers that answer at
// once, through the outbox rows and the `webhook-delivery` worker (BullMQ on Redis, one wake-up per endpoint, rows
// claimed and written in batches): deliveries per second, beside a bare loop of node:http POSTs of the same bodies
// at the same concurrency in the same run (the worker's 10 endpoints × WEBHOOK_ENDPOINT_CONCURRENCY 5 = 50 in
// flight); then events paced at half that rate for the event-to-receipt latency, each written and queued as the
// outbox does after a commit; and the receivers' count of every webhook-id (0 lost, and duplicates only where an
// answer was lost, which none is here).
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createBullQueues,
  createLogger,
  createSecretBox,
  newEventId,
  queueDeliveries,
  webhookBody,
} from '@comms/core/platform';
import { createTenant, findTenant, migrateRegistry, openDatabase, purgeTenant, schemaNameFor } from '@comms/db';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, printTable, startServer, writeResult } from './lib.js';

const DB_URL = BENCH_DB_URL;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const PACED = Number(process.env.BENCH_PACED ?? 2_000);
const ENDPOINTS = 10;
// Requests in flight: the bare loop's, and the worker's (WEBHOOK_ENDPOINT_CONCURRENCY per endpoint, unless set).
const CONCURRENCY = 50;
const ENDPOINT_CONCURRENCY = process.env.WEBHOOK_ENDPOINT_CONCURRENCY ?? String(CONCURRENCY / ENDPOINTS);
const KEY = randomBytes(32).toString('base64');

function percentile(sorted: number[], p: number): number {
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!) : 0;
}

/** A message_received event as the gateway publishes it (about 1 KB of JSON). */
function eventData(i: number) {
  const conversation = {
    id: 1 + (i % 500),
    channel: 'whatsapp',
    contact_name: 'Ana Lima',
    contact_identifier: `5511${String(i % 500).padStart(9, '0')}`,
    status: 'open',
    priority: 'normal',
    first_message: 'Olá, quero um pacote para Lisboa em maio',
    last_message: `mensagem ${i}`,
    message_count: 3,
    unread_count: 1,
    created_at: new Date().toISOString(),
  };
  return {
    id: i,
    conversation_id: conversation.id,
    direction: 'in',
    type: 'text',
    content: `mensagem ${i}: queria saber preços e datas para duas pessoas`,
    status: 'delivered',
    attachments: [],
    metadata: {},
    created_at: new Date().toISOString(),
    conversation,
  };
}

interface Receivers {
  urls: string[];
  /** webhook-id → receipts. */
  seen: Map<string, number[]>;
  servers: Server[];
}

async function startReceivers(): Promise<Receivers> {
  const seen = new Map<string, number[]>();
  const bare = new Map<string, number[]>();
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        // The bare loop's requests are kept apart (the same work), so they never count as deliveries.
        const into = id.startsWith('bare-') ? bare : seen;
        const list = into.get(id) ?? [];
        list.push(Date.now());
        into.set(id, list);
        res.writeHead(204);
        res.end();
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${i}`);
  }
  return { urls, seen, servers };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * The same bodies POSTed by a bare node:http loop, `CONCURRENCY` in flight, keep-alive: requests per second, and
 * the CPU time per request of this process (the client and the receivers).
 */
async function bareLoop(urls: string[], bodies: string[]): Promise<{ perSec: number; cpuUs: number }> {
  const cpuBefore = ownCpuSeconds();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const started = performance.now();
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        urls[i % urls.length]!,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': `bare-${i}` } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(bodies[i]);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) await one(next++);
    }),
  );
  agent.destroy();
  return {
    perSec: Math.round(bodies.length / ((performance.now() - started) / 1000)),
    cpuUs: Math.round(((ownCpuSeconds() - cpuBefore) / bodies.length) * 1e6),
  };
}

export async function run(): Promise<void> {
  await ensureBenchDatabase();
  const slug = 'bench-wh';
  const database = await openDatabase({ url: DB_URL });
  await migrateRegistry(database.db);
  if (await findTenant(database.db, slug)) await purgeTenant(database.db, slug);
  await createTenant(database.db, { slug, name: 'Bench webhooks' });
  await database.close();
  const schema = schemaNameFor(slug);

  const receivers = await startReceivers();
  const box = createSecretBox(KEY);
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  const endpointIds: number[] = [];
  for (const url of receivers.urls) {
    const { rows } = await db.query(
      `insert into "${schema}".webhook_endpoints (url, secret_encrypted) values ($1, $2) returning id`,
      [url, box.seal(`whsec_${randomBytes(32).toString('base64')}`)],
    );
    endpointIds.push(rows[0].id);
  }
  // The outbox rows as recordOutgoing writes them: one per event, each event to one of the 10 endpoints.
  const bodies = Array.from({ length: EVENTS }, (_, i) => webhookBody('message_received', eventData(i)));
  const insert = async (from: number, to: number, source: string[]) => {
    const rows = source.slice(from, to).map((payload, k) => ({
      endpoint_id: endpointIds[(from + k) % ENDPOINTS],
      event_id: newEventId(),
      payload,
    }));
    const { rows: ids } = await db.query(
      `insert into "${schema}".webhook_deliveries (endpoint_id, event_id, event_type, payload, next_attempt_at)
       select e.endpoint_id, e.event_id, 'message_received', e.payload, now()
       from jsonb_to_recordset($1::jsonb) as e(endpoint_id int, event_id text, payload text) returning id`,
      [JSON.stringify(rows)],
    );
    return ids.map((r) => r.id as number);
  };
  const log = createLogger({ level: 'silent' });
  const queues = createBullQueues(REDIS_URL, log, { prefix: 'bench-wh' });

  // 0. The ceiling, before the worker runs (and again after it): the higher of the two is the one compared with, so
  // a moment of load on the shared machine during one of them does not flatter the ratio.
  const bareBefore = await bareLoop(receivers.urls, bodies);

  // 1. Throughput: every delivery written and its endpoint woken, then the worker starts on the backlog;
  // deliveries per second from the first receipt to the last.
  for (let i = 0; i < EVENTS; i += 1000) await insert(i, Math.min(EVENTS, i + 1000), bodies);
  await queueDeliveries(queues, slug, endpointIds, log);
  const worker = await startServer('worker', {
    DATABASE_URL: DB_URL,
    REDIS_URL,
    NODE_ENV: 'test',
    QUEUE_PREFIX: 'bench-wh',
    ENCRYPTION_KEY: KEY,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_ENDPOINT_CONCURRENCY: ENDPOINT_CONCURRENCY,
    JWT_SECRET: 'bench-secret-0123456789abcdefghij',
  });
  const workerCpuBefore = cpuSecondsOf(worker.child.pid!);
  const benchCpuBefore = ownCpuSeconds();
  const waitFor = async (n: number) => {
    const until = Date.now() + 600_000;
    while (receivers.seen.size < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  };
  await waitFor(EVENTS);
  // CPU per delivery of the worker and of this process (the receivers); PostgreSQL's and Redis's are not counted.
  const workerCpuUs = Math.round(((cpuSecondsOf(worker.child.pid!) - workerCpuBefore) / EVENTS) * 1e6);
  const receiversCpuUs = Math.round(((ownCpuSeconds() - benchCpuBefore) / EVENTS) * 1e6);
  const times = [...receivers.seen.values()].map((t) => t[0]!).sort((a, b) => a - b);
  const perSec = Math.round((EVENTS - 1) / ((times[times.length - 1]! - times[0]!) / 1000));

  // 2. Latency: events written and queued one at a time at half that rate, as the outbox does after each commit.
  const rate = Math.max(10, Math.floor(perSec / 2));
  const pacedBodies = Array.from({ length: PACED }, (_, i) => webhookBody('message_received', eventData(EVENTS + i)));
  const writtenAt = new Map<string, number>();
  const start = Date.now();
  for (let i = 0; i < PACED; i++) {
    const wait = start + (i / rate) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    const eventId = newEventId();
    const { rows } = await db.query(
      `insert into "${schema}".webhook_deliveries (endpoint_id, event_id, event_type, payload, next_attempt_at)
       values ($1, $2, 'message_received', $3, now()) returning endpoint_id`,
      [endpointIds[i % ENDPOINTS], eventId, pacedBodies[i]],
    );
    writtenAt.set(eventId, at);
    void queueDeliveries(queues, slug, [rows[0].endpoint_id], log);
  }
  await waitFor(EVENTS + PACED);
  const latencies = [...writtenAt]
    .map(([id, at]) => (receivers.seen.get(id)?.[0] ?? Number.NaN) - at)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  await worker.stop();
  await queues.close();

  const { rows: statuses } = await db.query(
    `select status, count(*)::int as n from "${schema}".webhook_deliveries group by status order by status`,
  );
  const received = receivers.seen.size;
  const duplicates = [...receivers.seen.values()].reduce((n, t) => n + t.length - 1, 0);
  await db.end();

  const bareAfter = await bareLoop(receivers.urls, bodies);
  const bare = Math.max(bareBefore.perSec, bareAfter.perSec);
  for (const s of receivers.servers) s.close();

  const rows = [
    {
      run: `bare node:http POST loop, concurrency ${CONCURRENCY} (before ${bareBefore.perSec}, after ${bareAfter.perSec})`,
      per_sec: bare,
      cpu_us: Math.min(bareBefore.cpuUs, bareAfter.cpuUs),
      p50_ms: '',
      p99_ms: '',
      vs_bare: '100%',
    },
    {
      run: `webhook deliveries, ${EVENTS} queued, ${ENDPOINTS} endpoints (CPU µs: worker ${workerCpuUs}, receivers ${receiversCpuUs})`,
      per_sec: perSec,
      cpu_us: workerCpuUs + receiversCpuUs,
      p50_ms: '',
      p99_ms: '',
      vs_bare: `${Math.round((perSec / bare) * 100)}%`,
    },
    {
      run: `event-to-receipt, ${PACED} paced at ${rate}/s`,
      per_sec: rate,
      cpu_us: '',
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      vs_bare: '',
    },
  ];
  printTable(rows);
  const integrity = {
    events: EVENTS + PACED,
    received,
    lost: EVENTS + PACED - received,
    duplicates,
    rows: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
  };
  console.table([integrity]);
  writeResult('webhooks', {
    setup: {
      events: EVENTS,
      paced: PACED,
      endpoints: ENDPOINTS,
      concurrency: CONCURRENCY,
      endpoint_concurrency: Number(ENDPOINT_CONCURRENCY),
      receivers: 'node:http servers on loopback answering 204 at once',
      cpu_us:
        'CPU microseconds per request: the bare loop (client and receivers, one process) against the worker plus the receivers; PostgreSQL and Redis not counted',
      queue: 'BullMQ on Redis (one wake-up job per endpoint; rows claimed and written in batches), one worker process',
      // What else the machine ran: figures taken under load compare only within their own run.
      load_average_at_end: os.loadavg().map((n) => Math.round(n * 10) / 10),
    },
    targets: { min_fraction_of_bare: 0.5, p99_ms_below: 250, lost: 0 },
    results: rows,
    integrity,
  });
}
