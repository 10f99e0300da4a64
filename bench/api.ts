// `npm run bench -- api`: inbox list endpoints on a seeded tenant (100,000 conversations, 1,000,000
// messages; BENCH_CONVERSATIONS / BENCH_MESSAGES for a smaller run) with autocannon at 20 connections, each beside
// its same-work ceiling: a bare Hono route (same Node server adapter) running the same SQL through raw `pg`
// (prepared, same pool size) and writing the same JSON, and the query alone. API_PROCESSES=2 in the environment
// runs the API as two processes (bench/servers/api.ts) for the scaling figure.
import { randomUUID } from 'node:crypto';
import { conversationListStatement, messageListStatement } from '@comms/core/inbox';
import { signToken } from '@comms/core/platform';
import { createTenant, findTenant, migrateRegistry, openDatabase, schemaNameFor, tenantTables } from '@comms/db';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, load, printTable, startServer, writeResult } from './lib.js';

const DB_URL = BENCH_DB_URL;
const SECRET = 'bench-secret-0123456789abcdefghij';
const SLUG = 'bench-api';
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 100_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const API_PROCESSES = process.env.API_PROCESSES ?? '1';
// PostgreSQL connections, for the API (DB_POOL_SIZE, its default) and for the query-alone rows alike.
const POOL = 10;

async function seed(): Promise<string> {
  await ensureBenchDatabase();
  const database = await openDatabase({ url: DB_URL });
  await migrateRegistry(database.db);
  if (!(await findTenant(database.db, SLUG))) await createTenant(database.db, { slug: SLUG, name: 'Bench' });
  await database.close();
  const schema = schemaNameFor(SLUG);
  const c = new pg.Client({ connectionString: DB_URL });
  await c.connect();
  const { rows } = await c.query(`select count(*)::int as n from "${schema}".inbox_conversations`);
  if (rows[0].n !== CONVERSATIONS) {
    console.log(`seeding ${CONVERSATIONS} conversations and ${MESSAGES} messages …`);
    const started = Date.now();
    await c.query(`truncate "${schema}".inbox_messages, "${schema}".inbox_conversations restart identity cascade`);
    await c.query(
      `insert into "${schema}".inbox_conversations (channel, contact_identifier, contact_name, status, priority, last_message, message_count, last_message_at, created_at)
       select (array['whatsapp','messenger','instagram','sms','email'])[1 + g % 5], '+1555' || lpad(g::text, 7, '0'), 'Contact ' || g,
              (array['new','open','open','replied','qualified','archived'])[1 + g % 6], (array['normal','normal','high','low'])[1 + g % 4],
              'last message ' || g, ${MESSAGES / CONVERSATIONS}, now() - (g * interval '7 seconds'), now() - (g * interval '7 seconds')
       from generate_series(1, ${CONVERSATIONS}) g`,
    );
    await c.query(
      `insert into "${schema}".inbox_messages (conversation_id, direction, type, content, status, created_at)
       select 1 + (g % ${CONVERSATIONS}), case when g % 2 = 0 then 'in' else 'out' end, 'text', 'message body number ' || g, 'delivered', now() - (g * interval '1 second')
       from generate_series(1, ${MESSAGES}) g`,
    );
    await c.query(`analyze "${schema}".inbox_conversations; analyze "${schema}".inbox_messages`);
    console.log(`seeded in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  await c.end();
  return schema;
}

async function deepCursor(schema: string, offset: number): Promise<string> {
  const c = new pg.Client({ connectionString: DB_URL });
  await c.connect();
  const { rows } = await c.query(
    `select last_message_at, id from "${schema}".inbox_conversations where status = 'open' and is_spam = false
     order by last_message_at desc, id desc offset $1 limit 1`,
    [offset - 1],
  );
  await c.end();
  return Buffer.from(JSON.stringify([rows[0].last_message_at.toISOString(), rows[0].id])).toString('base64url');
}

/**
 * The database's share: the endpoint's own query (the SQL the API sends, as plain text rows, nothing
 * rendered) from 20 concurrent callers over POOL `pg` connections (as the API's 20 HTTP connections share its
 * pool) for `seconds`, with no HTTP in between. Queries per second.
 */
async function queryCeiling(text: string, values: unknown[], seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: DB_URL, max: POOL });
  const raw = { getTypeParser: () => (v: string) => v };
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (Date.now() < end) {
        await pool.query({ name: 'ceiling', text, rowMode: 'array', types: raw }, values);
        done++;
      }
    }),
  );
  await pool.end();
  return Math.round(done / seconds);
}

export async function run(): Promise<void> {
  const schema = await seed();
  const token = await signToken(SECRET, { sub: randomUUID(), tenant_slug: SLUG, role: 'tenant_user' }, '1h');
  const headers = { authorization: `Bearer ${token}` };
  const api = await startServer('api', {
    DATABASE_URL: DB_URL,
    JWT_SECRET: SECRET,
    NODE_ENV: 'test',
    DB_POOL_SIZE: String(POOL),
    // Several processes need Redis (one process serves without it); the lists themselves never touch it.
    ...(API_PROCESSES === '1' ? {} : { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
    QUEUE_PREFIX: 'bench-api',
    API_PROCESSES,
  });
  const base = `${api.url}/api/v1/tenants/${SLUG}/communications`;
  const cursor = await deepCursor(schema, Math.min(20_000, Math.floor(CONVERSATIONS / 6)));
  // The statements the API sends for these three requests, built by the API's own code.
  const tenant = { schemaName: schema, tables: tenantTables(schema) };
  const first = { status: ['open' as const], limit: 50 };
  const sqlOf = (source: { toSQL(): { sql: string; params: unknown[] } }, keys: string[]) => {
    const { sql: text, params } = source.toSQL();
    return { text, params, limit: 50, keys };
  };
  const cases = {
    'conversations, first page (status=open, 50)': {
      url: `${base}/conversations?status=open&limit=50`,
      statement: sqlOf(conversationListStatement(tenant, first), ['last_message_at', 'id']),
    },
    'conversations, deep page (cursor, status=open, 50)': {
      url: `${base}/conversations?status=open&limit=50&cursor=${cursor}`,
      statement: sqlOf(conversationListStatement(tenant, { ...first, cursor }), ['last_message_at', 'id']),
    },
    'messages of a conversation (50)': {
      url: `${base}/messages/conversation/1?limit=50`,
      statement: sqlOf(messageListStatement(tenant, 1, { limit: 50, order: 'desc' }), ['id']),
    },
  };
  const names = Object.keys(cases) as (keyof typeof cases)[];
  const same = await startServer('same-work-hono', {
    DATABASE_URL: DB_URL,
    POOL_SIZE: String(POOL),
    STATEMENTS: JSON.stringify(Object.fromEntries(names.map((n, i) => [String(i), cases[n].statement]))),
  });

  const rows: Record<string, unknown>[] = [];
  const bytes: Record<string, unknown>[] = [];
  const warm = { connections: 20, duration: Math.min(3, DURATION), headers };
  for (const [i, name] of names.entries()) {
    const { url, statement } = cases[name];
    const sameUrl = `${same.url}/same/${i}`;
    // The ceiling must write what the API writes, byte for byte, or it is not the same work.
    const ours = await (await fetch(url, { headers })).text();
    const theirs = await (await fetch(sameUrl)).text();
    bytes.push({ endpoint: name, api_bytes: ours.length, ceiling_bytes: theirs.length, identical: ours === theirs });
    await load(sameUrl, warm);
    const ceiling = await load(sameUrl, { connections: 20, duration: DURATION });
    await load(url, warm);
    const r = await load(url, { connections: 20, duration: DURATION, headers });
    await queryCeiling(statement.text, statement.params, 2);
    const db = await queryCeiling(statement.text, statement.params, DURATION);
    const pct = (n: number, of: number) => `${Math.round((n / of) * 100)}%`;
    rows.push({ endpoint: `${name}: query alone (pg, ${POOL} connections, prepared, no HTTP)`, requests_per_sec: db });
    rows.push({
      endpoint: `${name}: same-work ceiling (bare Hono + pg)`,
      ...ceiling,
      vs_query: pct(ceiling.requests_per_sec, db),
    });
    rows.push({
      endpoint: `${name}: API (${API_PROCESSES} process${API_PROCESSES === '1' ? '' : 'es'})`,
      ...r,
      vs_ceiling: pct(r.requests_per_sec, ceiling.requests_per_sec),
      vs_query: pct(r.requests_per_sec, db),
    });
  }
  await api.stop();
  await same.stop();
  printTable(rows);
  printTable(bytes);
  writeResult(API_PROCESSES === '1' ? 'api' : `api-${API_PROCESSES}-processes`, {
    setup: {
      conversations: CONVERSATIONS,
      messages: MESSAGES,
      connections: 20,
      pg_connections: POOL,
      duration_s: DURATION,
      api_processes: API_PROCESSES,
    },
    ceilings: {
      'query alone': `the endpoint's SQL (built by the API's own statement code) through raw pg, named prepared statement, ${POOL} pooled connections, 20 concurrent callers, rows as text, no HTTP`,
      'same-work ceiling': `a bare Hono route on @hono/node-server running the same SQL through raw pg (prepared, pool of ${POOL}) and writing the same page (data + next_cursor) with JSON.stringify; no auth, validation, logs or metrics`,
    },
    targets: { p99_ms_below: 25, min_fraction_of_same_work_ceiling: 0.75 },
    same_bytes: bytes,
    results: rows,
  });
}
