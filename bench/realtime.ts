// `npm run bench -- realtime`: one channel with 1,000 members connected over WebSocket (one instance, then
// split across two sharing Redis); 20 messages a second posted through the REST API for 30 s; latency from
// the POST to each client's receipt, lost and duplicated deliveries; the server's memory with 5,000 idle
// connections; beside a bare `ws` broadcast to the same number of clients.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { signToken } from '@comms/core/platform';
import { createTenant, findTenant, migrateRegistry, openDatabase, purgeTenant, schemaNameFor } from '@comms/db';
import pg from 'pg';
import WebSocket from 'ws';
import { BENCH_DB_URL, ensureBenchDatabase, printTable, type ServerProcess, startServer, writeResult } from './lib.js';

const SECRET = 'bench-secret-0123456789abcdefghij';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1_000);
const RATE = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const IDLE = Number(process.env.BENCH_IDLE ?? 5_000);

function percentile(sorted: number[], p: number): number {
  return sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10
    : 0;
}

async function connectAll(
  urls: string[],
  count: number,
  path: (i: number) => string,
  onMessage: (i: number, data: string) => void,
) {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) => {
        const n = i + j;
        return new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`${urls[n % urls.length]!.replace('http', 'ws')}${path(n)}`);
          ws.on('message', (d) => onMessage(n, d.toString()));
          ws.once('open', () => resolve());
          ws.once('error', reject);
          sockets.push(ws);
        });
      }),
    );
  }
  return sockets;
}

/** Posts RATE messages/s for SECONDS through `postOne`, and measures each client's receipt. */
async function drive(
  urls: string[],
  path: (i: number) => string,
  postOne: (seq: number) => Promise<void>,
  parse: (data: string) => number | null,
) {
  // The machine's load when the run starts: other work on these two cores shows in the tail latencies.
  const load = Math.round(os.loadavg()[0]! * 100) / 100;
  const sentAt = new Map<number, number>();
  const received = new Map<number, number>(); // seq -> deliveries
  const latencies: number[] = [];
  const sockets = await connectAll(urls, MEMBERS, path, (_i, data) => {
    const seq = parse(data);
    if (seq === null) return;
    const t = sentAt.get(seq);
    if (t !== undefined) latencies.push(performance.now() - t);
    received.set(seq, (received.get(seq) ?? 0) + 1);
  });
  const total = RATE * SECONDS;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let seq = 0; seq < total; seq++) {
    const due = start + (seq / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(seq, performance.now());
    inflight.push(postOne(seq));
  }
  await Promise.all(inflight);
  await new Promise((r) => setTimeout(r, 2_000));
  for (const s of sockets) s.terminate();
  latencies.sort((a, b) => a - b);
  let lost = 0;
  let duplicated = 0;
  for (let seq = 0; seq < total; seq++) {
    const n = received.get(seq) ?? 0;
    if (n < MEMBERS) lost += MEMBERS - n;
    if (n > MEMBERS) duplicated += n - MEMBERS;
  }
  return {
    deliveries: latencies.length,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    max_ms: percentile(latencies, 100),
    lost,
    duplicated,
    load_avg_1m_at_start: load,
  };
}

export async function run(): Promise<void> {
  await ensureBenchDatabase();
  const slug = 'bench-rt';
  const database = await openDatabase({ url: BENCH_DB_URL });
  await migrateRegistry(database.db);
  if (await findTenant(database.db, slug)) await purgeTenant(database.db, slug);
  await createTenant(database.db, { slug, name: 'Bench realtime' });
  await database.close();
  const schema = schemaNameFor(slug);
  const users = Array.from({ length: Math.max(MEMBERS, IDLE) }, () => randomUUID());
  const db = new pg.Client({ connectionString: BENCH_DB_URL });
  await db.connect();
  const { rows } = await db.query(
    `insert into "${schema}".channels (name, slug, type, created_by) values ('Everyone', 'everyone', 'public', $1) returning id`,
    [users[0]],
  );
  const channelId = rows[0].id as number;
  await db.query(
    `insert into "${schema}".channel_members (channel_id, user_id, role) select $1, u, 'member' from unnest($2::uuid[]) u`,
    [channelId, users.slice(0, MEMBERS)],
  );
  await db.end();
  const tokens = await Promise.all(
    users.slice(0, MEMBERS).map((sub) => signToken(SECRET, { sub, tenant_slug: slug, role: 'tenant_user' }, '1h')),
  );
  const wsPath = (i: number) => `/api/v1/tenants/${slug}/communications/ws?token=${tokens[i]}`;
  const env = { DATABASE_URL: BENCH_DB_URL, JWT_SECRET: SECRET, NODE_ENV: 'test', DB_POOL_SIZE: '10' };
  const parseEntry = (data: string) => {
    const f = JSON.parse(data) as { type: string; data?: { content?: string } };
    return f.type === 'entry_created' && f.data?.content?.startsWith('seq ') ? Number(f.data.content.slice(4)) : null;
  };
  const poster = (url: string) => async (seq: number) => {
    const res = await fetch(`${url}/api/v1/tenants/${slug}/communications/chat/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: `seq ${seq}` }),
    });
    await res.text();
  };

  const results: Record<string, unknown>[] = [];
  // Ceiling: a bare ws broadcast of the same fan-out.
  const bare = await startServer('bare-ws');
  results.push({
    run: `bare ws broadcast, ${MEMBERS} clients (ceiling)`,
    ...(await drive(
      [bare.url],
      () => '/',
      async (seq) => {
        await (
          await fetch(bare.url, {
            method: 'POST',
            body: JSON.stringify({ type: 'entry_created', data: { content: `seq ${seq}` } }),
          })
        ).text();
      },
      parseEntry,
    )),
  });
  await bare.stop();

  const one = await startServer('api', env);
  results.push({
    run: `API, one instance, ${MEMBERS} members`,
    ...(await drive([one.url], wsPath, poster(one.url), parseEntry)),
  });
  await one.stop();

  const prefix = `bench-rt-${Date.now()}`;
  const a = await startServer('api', { ...env, REDIS_URL, QUEUE_PREFIX: prefix });
  const b = await startServer('api', { ...env, REDIS_URL, QUEUE_PREFIX: prefix });
  results.push({
    run: `API, two instances (Redis), ${MEMBERS} members split`,
    ...(await drive([a.url, b.url], wsPath, poster(a.url), parseEntry)),
  });
  await a.stop();
  await b.stop();

  // Memory with idle connections (they need not be members): the API's server process, then a bare ws server.
  const idleTokens = await Promise.all(
    users.slice(0, IDLE).map((sub) => signToken(SECRET, { sub, tenant_slug: slug, role: 'tenant_user' }, '1h')),
  );
  const idleRss = async (server: ServerProcess, path: (i: number) => string) => {
    const before = server.rssMb();
    const sockets = await connectAll([server.url], IDLE, path, () => {});
    await new Promise((r) => setTimeout(r, 2_000));
    const after = server.rssMb();
    for (const s of sockets) s.terminate();
    await server.stop();
    return { before, after };
  };
  const apiIdle = await idleRss(
    await startServer('api', env),
    (i) => `/api/v1/tenants/${slug}/communications/ws?token=${idleTokens[i]}`,
  );
  const bareIdle = await idleRss(await startServer('bare-ws'), () => '/');

  // Against the targets.
  const bareP99 = (results[0] as { p99_ms: number }).p99_ms;
  for (const r of results.slice(1)) r.ratio_to_bare_p99 = Math.round(((r.p99_ms as number) / bareP99) * 10) / 10;
  printTable(results);
  const memory = {
    idle_connections: IDLE,
    api_rss_before_mb: Math.round(apiIdle.before),
    api_rss_with_connections_mb: Math.round(apiIdle.after),
    api_kb_per_connection: Math.round(((apiIdle.after - apiIdle.before) * 1024) / IDLE),
    bare_ws_rss_before_mb: Math.round(bareIdle.before),
    bare_ws_rss_with_connections_mb: Math.round(bareIdle.after),
  };
  console.table([memory]);
  const [, single, two] = results as { p99_ms: number; lost: number; duplicated: number; ratio_to_bare_p99: number }[];
  const verdict = {
    p99_one_instance_under_100ms: single!.p99_ms < 100,
    p99_two_instances_under_150ms: two!.p99_ms < 150,
    within_3x_bare_p99: single!.ratio_to_bare_p99 <= 3 && two!.ratio_to_bare_p99 <= 3,
    no_lost_or_duplicated: results.every((r) => r.lost === 0 && r.duplicated === 0),
    idle_5000_under_300mb: memory.api_rss_with_connections_mb < 300,
  };
  console.table([verdict]);
  writeResult('realtime', {
    setup: {
      members: MEMBERS,
      messages_per_second: RATE,
      seconds: SECONDS,
      path: 'POST /chat/channels/{id}/messages → entry_created frame on every member socket',
      two_instances: 'members split evenly between two API processes sharing Redis; every POST goes to the first',
      servers: 'each a child process on loopback; RSS read from /proc/<pid>/status',
    },
    targets: {
      p99_ms_one_instance: 100,
      p99_ms_two_instances: 150,
      max_ratio_to_bare_p99: 3,
      lost: 0,
      duplicated: 0,
      rss_mb_for_5000_idle: 300,
    },
    results,
    memory,
    verdict,
  });
}
