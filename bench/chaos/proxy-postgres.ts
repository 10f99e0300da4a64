// Chaos: the gateway and the API reach PostgreSQL through a faulty TCP proxy. Phases: normal; 150 ms of latency
// each way; a stall (connections stay open, nothing passes); every connection dropped; healed; the open
// connections dead for good without either end being told (a firewall or failover forgetting them). Webhooks at
// 100/s and inbox list reads at 25/s throughout, each answer timed; nothing is retried here, so every answer
// counts. The audit: the service answers (503, never a hang) within its timeouts while the database is away,
// recovers by itself, every webhook answered 2xx is stored, and no connection leaks (the proxy counts them).
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { signToken } from '@comms/core/platform';
import { schemaNameFor } from '@comms/db';
import { startTcpProxy } from '@comms/test/tcp-proxy';
import pg from 'pg';
import { startServer } from '../lib.js';
import { chaosDatabase, createWhatsAppAccount } from './lib.js';

const SECRET = 'chaos-secret-0123456789abcdefghij';
const APP_SECRET = 'chaos-app-secret';
const PHONE_ID = '106540352242922';
const SLUG = 'chaos-proxy';
const POOL = 10;
const PHASES = [
  { name: 'normal', seconds: 5 },
  { name: 'latency 150 ms each way', seconds: 8 },
  { name: 'stalled (nothing passes)', seconds: 12 },
  { name: 'every connection dropped, refused for 3 s', seconds: 6 },
  { name: 'healed', seconds: 5 },
  { name: 'open connections dead for good (new ones work)', seconds: 15 },
  { name: 'afterwards', seconds: 5 },
] as const;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One request, timed; status 0 for a broken connection, -1 for no answer within 60 s (a hang). */
function timed(url: URL, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; ms: number }>((resolve) => {
    const started = performance.now();
    const done = (status: number) => resolve({ status, ms: performance.now() - started });
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
        timeout: 60_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done(-1);
    });
    req.on('error', () => done(0));
    req.end(body);
  });
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!) : 0;
};

export async function run() {
  const postgres = await chaosDatabase(SLUG, 'Chaos proxy');
  const proxy = await startTcpProxy('127.0.0.1', postgres.port);
  const proxied = new URL(postgres.url);
  proxied.port = String(proxy.port);

  const env = { DATABASE_URL: proxied.toString(), JWT_SECRET: SECRET, NODE_ENV: 'test', DB_POOL_SIZE: String(POOL) };
  const redis = {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `chaos-proxy-${process.pid}`,
  };
  const [api, gateway] = await Promise.all([startServer('api', env), startServer('gateway', { ...env, ...redis })]);
  const token = await signToken(SECRET, { sub: randomUUID(), tenant_slug: SLUG, role: 'tenant_admin' }, '1h');
  const auth = { authorization: `Bearer ${token}` };
  await createWhatsAppAccount(api.url, SLUG, token, { phoneNumberId: PHONE_ID, appSecret: APP_SECRET });

  const hook = new URL(`${gateway.url}/webhooks/${SLUG}/whatsapp`);
  const list = new URL(`${api.url}/api/v1/tenants/${SLUG}/communications/conversations?limit=20`);
  type Answer = { phase: string; kind: 'webhook' | 'list'; status: number; ms: number; wamid?: string; at: number };
  const answers: Promise<Answer>[] = [];
  const started = Date.now();
  let phaseStart = started;
  let i = 0;
  for (const phase of PHASES) {
    if (phase.name.startsWith('latency')) proxy.latency(150);
    if (phase.name.startsWith('stalled')) proxy.stall();
    if (phase.name.startsWith('every connection')) {
      proxy.heal();
      await proxy.cut();
      setTimeout(() => void proxy.restore(), 3_000);
    }
    if (phase.name === 'healed') proxy.heal();
    if (phase.name.startsWith('open connections dead')) proxy.blackhole();
    const until = phaseStart + phase.seconds * 1000;
    for (let tick = 0; Date.now() < until; tick++) {
      const due = phaseStart + tick * 10; // 100 webhooks a second, a list read every fourth tick
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const wamid = `wamid.proxy.${i++}.${randomUUID()}`;
      const payload = whatsappWebhook(
        [whatsappText({ from: `55119${String(i % 300).padStart(8, '0')}`, id: wamid, text: `proxy ${i}` })],
        { phoneNumberId: PHONE_ID },
      );
      const { body, headers } = signedMetaWebhook(payload, APP_SECRET);
      const at = Date.now() - started;
      answers.push(
        timed(hook, 'POST', headers, body).then((r) => ({ ...r, phase: phase.name, kind: 'webhook', wamid, at })),
      );
      if (tick % 4 === 0)
        answers.push(timed(list, 'GET', auth).then((r) => ({ ...r, phase: phase.name, kind: 'list', at })));
    }
    phaseStart = until;
  }
  const all = await Promise.all(answers);
  // After the run, with nothing in flight: the connections the two services keep open through the proxy.
  await new Promise((r) => setTimeout(r, 1_000));
  const openAfter = proxy.open();

  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const schema = schemaNameFor(SLUG);
  const stored = new Set(
    (await db.query<{ external_id: string }>(`select external_id from "${schema}".inbox_messages`)).rows.map(
      (r) => r.external_id,
    ),
  );
  await db.end();
  await Promise.all([api.stop(), gateway.stop()]);
  await proxy.close();
  await postgres.stop();

  const startOf = (name: string) =>
    PHASES.slice(
      0,
      PHASES.findIndex((p) => p.name.startsWith(name)),
    ).reduce((t, p) => t + p.seconds * 1000, 0);
  const blackholeAt = startOf('open connections dead');
  const failedSince = (at: number) =>
    all.filter((a) => a.at >= at && (a.status < 200 || a.status >= 300)).map((a) => a.at);
  const lastFailure = Math.max(blackholeAt, ...failedSince(blackholeAt));
  const accepted = all.filter((a) => a.kind === 'webhook' && a.status >= 200 && a.status < 300);
  const faults = PHASES.map((phase) => {
    const inPhase = all.filter((a) => a.phase === phase.name);
    const count = (f: (a: Answer) => boolean) => inPhase.filter(f).length;
    return {
      phase: phase.name,
      requests: inPhase.length,
      ok_2xx: count((a) => a.status >= 200 && a.status < 300),
      unavailable_503: count((a) => a.status === 503),
      other: count((a) => a.status !== 503 && (a.status < 200 || a.status >= 300) && a.status > 0),
      reset: count((a) => a.status === 0),
      no_answer_60s: count((a) => a.status === -1),
      p99_ms: pct(
        inPhase.map((a) => a.ms),
        0.99,
      ),
      max_ms: Math.round(Math.max(0, ...inPhase.map((a) => a.ms))),
    };
  });
  return {
    scenario: 'gateway and API through a faulty proxy to PostgreSQL: latency, stall, drop, heal',
    requests: all.length,
    webhooks_accepted: accepted.length,
    accepted_not_stored: accepted.filter((a) => !stored.has(a.wamid!)).length,
    hangs_over_60s: all.filter((a) => a.status === -1).length,
    dead_connections_recovered_after_s: Math.round((lastFailure - blackholeAt) / 100) / 10,
    connections_after: openAfter,
    connections_allowed: 2 * POOL,
    faults,
  };
}
