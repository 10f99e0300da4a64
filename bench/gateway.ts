// `npm run bench -- gateway`: signed WhatsApp text webhooks from many contacts into one tenant, 50 concurrent
// connections, 10% redeliveries; beside the same transaction done directly with `pg` (the database ceiling).
// Afterwards the rows are counted: no message lost, none duplicated.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { createTenant, findTenant, migrateRegistry, openDatabase, purgeTenant, schemaNameFor } from '@comms/db';
import { signToken } from '@comms/core/platform';
import pg from 'pg';
import { createSesBenchAccount, type SesWebhook, sesIngestInputs, startSesBench } from './gateway-ses.js';
import { BENCH_DB_URL, ensureBenchDatabase, printTable, startServer, writeResult } from './lib.js';

const DB_URL = BENCH_DB_URL;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-secret-0123456789abcdefghij';
const APP_SECRET = 'bench-app-secret';
const PHONE_ID = '106540352242922';
const CONCURRENCY = 50;
// PostgreSQL connections, for the gateway (DB_POOL_SIZE, its default) and for the ceilings alike.
const POOL = 10;
const UNIQUE = 8_000;
const CONTACTS = 2_000;

interface Webhook {
  body: string;
  headers: Record<string, string>;
  wamid: string;
  contact: string;
}

function webhook(i: number): Webhook {
  const contact = `55119${String(i % CONTACTS).padStart(8, '0')}`;
  const wamid = `wamid.bench.${i}.${randomUUID()}`;
  const text = whatsappText({ from: contact, id: wamid, name: `Contact ${i % CONTACTS}`, text: `message number ${i}` });
  // The entry and display number as they always were here, so the bodies (and the figures) keep their size.
  const payload = whatsappWebhook([text], { phoneNumberId: PHONE_ID, businessAccountId: '1', displayPhoneNumber: '1' });
  return { ...signedMetaWebhook(payload, APP_SECRET), wamid, contact };
}

/** `count` unique webhooks plus 10% redeliveries of earlier ones, shuffled in. */
function workload(count: number, offset: number): Webhook[] {
  const unique = Array.from({ length: count }, (_, i) => webhook(offset + i));
  const out = [...unique];
  for (let i = 0; i < count / 10; i++)
    out.splice(Math.floor(Math.random() * out.length), 0, unique[Math.floor(Math.random() * count)]!);
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10
    : 0;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: URL, w: Webhook): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...w.headers, 'content-length': Buffer.byteLength(w.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(w.body);
  });
}

const figures = ({ per_sec, p50_ms, p99_ms }: { per_sec: number; p50_ms: number; p99_ms: number }) => ({
  per_sec,
  p50_ms,
  p99_ms,
});

/** Sends every webhook through `send` with `concurrency` in flight, optionally paced to `rate` per second. */
async function drive<W>(items: W[], send: (w: W) => Promise<number>, rate?: number) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        if (rate) {
          const due = started + (i / rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const t = performance.now();
        const status = await send(items[i]!);
        latencies.push(performance.now() - t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    per_sec: Math.round(items.length / seconds),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    statuses: Object.fromEntries(statuses),
  };
}

/**
 * The database ceilings, straight through `pg` with no HTTP, no verification and no parsing:
 * - `transaction`: the gateway's writes for one message as the classic transaction, one statement at a time
 *   (begin, receipt, conversation upsert, message insert, counters, commit);
 * - `function`: the same `ingest_webhook` call the gateway makes, with the arguments it would pass.
 */
function directSender(pool: pg.Pool, schema: string, accountId: number, mode: 'transaction' | 'function') {
  return async (w: Webhook): Promise<number> => {
    const c = await pool.connect();
    try {
      if (mode === 'function') {
        await c.query(
          `select "${schema}".ingest_webhook('ceiling-fn', $1, 'whatsapp', $2, $3, 'application/json', true, $4::jsonb)`,
          [
            accountId,
            w.wamid,
            w.body,
            JSON.stringify([
              {
                external_id: `f-${w.wamid}`,
                type: 'text',
                content: 'x',
                media_url: null,
                attachments: [],
                metadata: {},
                provider_ts: new Date().toISOString(),
                sender: `f-${w.contact}`,
                name: 'x',
                refs: [],
                preview: 'x',
                max_per_minute: 20,
                spam: [{ reason: 'more than 20 messages a minute', when: 'rate' }],
              },
            ]),
          ],
        );
        return 200;
      }
      await c.query('begin');
      const receipt = await c.query(
        `insert into "${schema}".webhook_events (provider, channel_account_id, dedupe_key, payload) values ('ceiling', $1, $2, $3) on conflict do nothing returning id`,
        [accountId, w.wamid, w.body],
      );
      if (receipt.rowCount) {
        const conv = await c.query(
          `insert into "${schema}".inbox_conversations (channel, channel_account_id, contact_identifier, contact_name) values ('whatsapp', $1, $2, $3)
           on conflict (coalesce(channel_account_id, 0), channel, contact_identifier) where status <> 'archived' do update set contact_name = excluded.contact_name returning id`,
          [accountId, `c-${w.contact}`, 'x'],
        );
        const msg = await c.query(
          `insert into "${schema}".inbox_messages (conversation_id, channel_account_id, external_id, direction, type, content, status) values ($1, $2, $3, 'in', 'text', 'x', 'delivered') on conflict do nothing returning id`,
          [conv.rows[0].id, accountId, `c-${w.wamid}`],
        );
        if (msg.rowCount)
          await c.query(
            `update "${schema}".inbox_conversations set message_count = message_count + 1, unread_count = unread_count + 1, last_message = 'x', last_message_at = now() where id = $1`,
            [conv.rows[0].id],
          );
      }
      await c.query('commit');
      return 200;
    } finally {
      c.release();
    }
  };
}

/** The SES ceiling: `ingest_webhook()` with the notification and the input the gateway would pass for its mail. */
function sesIngestSender(pool: pg.Pool, schema: string, accountId: number, inputs: Map<SesWebhook, string>) {
  return async (w: SesWebhook): Promise<number> => {
    await pool.query(
      `select "${schema}".ingest_webhook('ceiling-ses', $1, 'email', $2, $3, 'text/plain; charset=UTF-8', true, $4::jsonb)`,
      [accountId, `f-${w.wamid}`, w.body, inputs.get(w) ?? '[]'],
    );
    return 200;
  };
}

export async function run(): Promise<void> {
  await ensureBenchDatabase();

  const slug = 'bench-gw';
  const database = await openDatabase({ url: DB_URL });
  await migrateRegistry(database.db);
  if (await findTenant(database.db, slug)) await purgeTenant(database.db, slug);
  await createTenant(database.db, { slug, name: 'Bench gateway' });
  await database.close();

  const ses = await startSesBench();
  const gateway = await startServer('gateway', {
    ...ses.gatewayEnv,
    DATABASE_URL: DB_URL,
    REDIS_URL,
    JWT_SECRET: SECRET,
    NODE_ENV: 'test',
    QUEUE_PREFIX: 'bench',
    DB_POOL_SIZE: String(POOL),
  });
  const apiServer = await startServer('api', { DATABASE_URL: DB_URL, JWT_SECRET: SECRET, NODE_ENV: 'test' });
  const token = await signToken(SECRET, { sub: randomUUID(), tenant_slug: slug, role: 'tenant_admin' }, '1h');
  const created = await fetch(`${apiServer.url}/api/v1/tenants/${slug}/communications/channel-accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'whatsapp',
      name: 'Bench',
      identifier: PHONE_ID,
      credentials: { app_secret: APP_SECRET, access_token: 'x' },
    }),
  });
  const accountId = ((await created.json()) as { id: number }).id;
  const sesAccountId = await createSesBenchAccount(apiServer.url, slug, token);
  await apiServer.stop();

  // Signed before anything is driven: RSA signing is CPU work that would idle the kept-alive connections meanwhile.
  // The same sizes as WhatsApp's runs: a shorter saturated run was mostly its ramp and its code's first compilation.
  const sesWarm = ses.workload(500, 1_000_000, CONTACTS);
  const sesSaturated = ses.workload(UNIQUE, 0, CONTACTS);
  const sesPaced = ses.workload(5_000, 100_000, CONTACTS);
  const sesInputs = await sesIngestInputs([...sesWarm, ...sesSaturated]);
  const url = new URL(`${gateway.url}/webhooks/${slug}/whatsapp`);
  const viaGateway = (w: Webhook) => post(url, w);
  const warm = workload(500, 1_000_000);
  await drive(warm, viaGateway);
  const saturated = workload(UNIQUE, 0);
  const full = await drive(saturated, viaGateway);
  const paced = workload(5_000, 100_000);
  const at500 = await drive(paced, viaGateway, 500);
  // SES: signed SNS notifications of inbound mail, saturated, then at the same paced rate.
  const sesUrl = new URL(`${gateway.url}/webhooks/${slug}/ses`);
  const viaSes = (w: Webhook) => post(sesUrl, w);
  await drive(sesWarm, viaSes);
  const sesFull = await drive(sesSaturated, viaSes);
  const sesAt500 = await drive(sesPaced, viaSes, 500);
  const certificateFetches = ses.endpoint.requests.length;
  await ses.endpoint.close();
  await gateway.stop();

  const schema = schemaNameFor(slug);
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  const expected = new Set([...warm, ...saturated, ...paced].map((w) => w.wamid));
  const stored = await db.query(
    `select external_id, count(*)::int as n from "${schema}".inbox_messages where external_id like 'wamid.bench.%' group by 1`,
  );
  const duplicated = stored.rows.filter((r) => r.n > 1).length;
  const lost = [...expected].filter((id) => !stored.rows.some((r) => r.external_id === id)).length;
  const sesExpected = new Set([...sesWarm, ...sesSaturated, ...sesPaced].map((w) => w.wamid));
  const sesStored = await db.query(
    `select external_id, count(*)::int as n from "${schema}".inbox_messages where external_id like 'ses.bench.%' group by 1`,
  );
  const sesIds = new Set(sesStored.rows.map((r) => r.external_id as string));
  const sesIntegrity = {
    webhooks_sent: sesWarm.length + sesSaturated.length + sesPaced.length,
    unique_messages: sesExpected.size,
    stored: sesStored.rowCount,
    lost: [...sesExpected].filter((id) => !sesIds.has(id)).length,
    duplicated: sesStored.rows.filter((r) => r.n > 1).length,
    certificate_fetches: certificateFetches,
    statuses: { saturated: sesFull.statuses, paced: sesAt500.statuses },
  };
  const conversations = (
    await db.query(
      `select count(*)::int as n from "${schema}".inbox_conversations where contact_identifier not like 'c-%' and channel = 'whatsapp'`,
    )
  ).rows[0].n;
  const counters = (
    await db.query(
      `select coalesce(sum(message_count), 0)::int as n from "${schema}".inbox_conversations where contact_identifier not like 'c-%' and channel = 'whatsapp'`,
    )
  ).rows[0].n;
  await db.end();

  const pool = new pg.Pool({ connectionString: DB_URL, max: POOL });
  // Each ceiling gets the warm-up its gateway run had (untimed): the same contacts' conversations exist before it is
  // timed, so it creates as many new ones as the gateway's saturated run did.
  await drive(warm, directSender(pool, schema, accountId, 'transaction'));
  const byTransaction = await drive(saturated, directSender(pool, schema, accountId, 'transaction'));
  await drive(warm, directSender(pool, schema, accountId, 'function'));
  const byFunction = await drive(saturated, directSender(pool, schema, accountId, 'function'));
  // The database alone at the paced rate: its own tail is the floor for the gateway's.
  const fnAt500 = await drive(
    paced.map((w) => ({ ...w, wamid: `${w.wamid}.paced` })),
    directSender(pool, schema, accountId, 'function'),
    500,
  );
  // SES's own ceiling: the same call with what the gateway passes for a mail (a larger receipt, the mail's metadata).
  await drive(sesWarm, sesIngestSender(pool, schema, sesAccountId, sesInputs));
  const sesByFunction = await drive(sesSaturated, sesIngestSender(pool, schema, sesAccountId, sesInputs));
  await pool.end();
  // The ratio is taken against the faster of the two: the most the database allows for this work.
  const top = Math.max(byTransaction.per_sec, byFunction.per_sec);
  const pct = (n: number) => `${Math.round((n / top) * 100)}%`;
  const sesPct = (n: number) => `${Math.round((n / sesByFunction.per_sec) * 100)}%`;

  const rows = [
    {
      run: 'pg: the transaction, statement by statement',
      ...figures(byTransaction),
      vs_ceiling: pct(byTransaction.per_sec),
    },
    { run: 'pg: ingest_webhook() directly', ...figures(byFunction), vs_ceiling: pct(byFunction.per_sec) },
    { run: 'pg: ingest_webhook() directly, paced at 500/s', ...figures(fnAt500), vs_ceiling: '' },
    {
      run: `gateway, ${CONCURRENCY} connections, saturated`,
      per_sec: full.per_sec,
      p50_ms: full.p50_ms,
      p99_ms: full.p99_ms,
      vs_ceiling: pct(full.per_sec),
    },
    {
      run: 'gateway, paced at 500/s',
      per_sec: at500.per_sec,
      p50_ms: at500.p50_ms,
      p99_ms: at500.p99_ms,
      vs_ceiling: '',
    },
    { run: 'pg: ingest_webhook() directly, SES mail', ...figures(sesByFunction), vs_ceiling: '100% (SES)' },
    {
      run: `gateway, SES (SNS), ${CONCURRENCY} connections, saturated`,
      ...figures(sesFull),
      vs_ceiling: `${sesPct(sesFull.per_sec)} (SES)`,
    },
    { run: 'gateway, SES (SNS), paced at 500/s', ...figures(sesAt500), vs_ceiling: '' },
  ];
  printTable(rows);
  const integrity = {
    webhooks_sent: warm.length + saturated.length + paced.length,
    unique_messages: expected.size,
    stored: stored.rowCount,
    lost,
    duplicated,
    conversations,
    contacts: CONTACTS,
    counter_sum: counters,
    statuses: { saturated: full.statuses, paced: at500.statuses },
  };
  console.table([integrity]);
  console.table([{ provider: 'ses', ...sesIntegrity, statuses: JSON.stringify(sesIntegrity.statuses) }]);
  writeResult('gateway', {
    setup: {
      concurrency: CONCURRENCY,
      unique_webhooks: UNIQUE,
      redeliveries: '10%',
      contacts: CONTACTS,
      queue: 'BullMQ on Redis',
      database: 'PostgreSQL',
      pg_connections: POOL,
    },
    targets: { min_fraction_of_ceiling: 0.5, p99_ms_below_at_500_per_sec: 50, lost: 0, duplicated: 0 },
    results: rows,
    integrity,
    ses_integrity: sesIntegrity,
  });
}
