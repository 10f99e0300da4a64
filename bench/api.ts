// `npm run bench -- api`: inbox list endpoints on a seeded tenant (100,000 conversations, 1,000,000
// messages) beside a bare Hono route serving the same JSON, with autocannon at 20 connections.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '@comms/core/platform';
import { createTenant, findTenant, migrateRegistry, openDatabase, schemaNameFor } from '@comms/db';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, load, printTable, startServer, writeResult } from './lib.js';

const DB_URL = BENCH_DB_URL;
const SECRET = 'bench-secret-0123456789abcdefghij';
const SLUG = 'bench-api';
const CONVERSATIONS = 100_000;
const MESSAGES = 1_000_000;
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
  if (rows[0].n < CONVERSATIONS) {
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
  });
  const base = `${api.url}/api/v1/tenants/${SLUG}/communications`;
  const cursor = await deepCursor(schema, 20_000);
  const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  const list = `select * from "${schema}".inbox_conversations where status = $1 and is_spam = $2`;
  const order = 'order by last_message_at desc, id desc limit 51';
  // The same statements the API sends (see listConversations and listMessages), for the database-only row.
  const queries: Record<string, [string, unknown[]]> = {
    'conversations, first page (status=open, 50)': [`${list} ${order}`, ['open', false]],
    'conversations, page 400 (cursor, status=open, 50)': [
      `${list} and (last_message_at, id) < ($3::timestamptz, $4) ${order}`,
      ['open', false, at, id],
    ],
    'messages of a conversation (50)': [
      `select * from "${schema}".inbox_messages where conversation_id = $1 order by id desc limit 51`,
      [1],
    ],
  };
  const urls = {
    'conversations, first page (status=open, 50)': `${base}/conversations?status=open&limit=50`,
    'conversations, page 400 (cursor, status=open, 50)': `${base}/conversations?status=open&limit=50&cursor=${cursor}`,
    'messages of a conversation (50)': `${base}/messages/conversation/1?limit=50`,
  };
  // The bare route serves the same JSON as the first page, so the ratio measures our stack, not payload size.
  const sample = await (await fetch(urls['conversations, first page (status=open, 50)'], { headers })).text();
  const bodyFile = join(tmpdir(), 'bench-api-body.json');
  writeFileSync(bodyFile, sample);
  const bare = await startServer('bare-hono', { BODY_FILE: bodyFile });

  const rows: Record<string, unknown>[] = [];
  const warm = { connections: 20, duration: 3, headers };
  await load(`${bare.url}/bare`, warm);
  const ceiling = await load(`${bare.url}/bare`, { connections: 20, duration: 10 });
  rows.push({ endpoint: 'bare Hono, same JSON (ceiling)', ...ceiling, vs_bare: '100%' });
  for (const [name, url] of Object.entries(urls)) {
    await load(url, warm);
    const r = await load(url, { connections: 20, duration: 10, headers });
    const [text, values] = queries[name]!;
    await queryCeiling(text, values, 2);
    const db = await queryCeiling(text, values, 10);
    rows.push({
      endpoint: `${name}: its query alone, ${POOL} pg connections, no HTTP`,
      requests_per_sec: db,
      vs_bare: `${Math.round((db / ceiling.requests_per_sec) * 100)}%`,
    });
    rows.push({
      endpoint: name,
      ...r,
      vs_bare: `${Math.round((r.requests_per_sec / ceiling.requests_per_sec) * 100)}%`,
      vs_query_alone: `${Math.round((r.requests_per_sec / db) * 100)}%`,
    });
  }
  await api.stop();
  await bare.stop();
  printTable(rows);
  writeResult('api', {
    setup: {
      conversations: CONVERSATIONS,
      messages: MESSAGES,
      connections: 20,
      pg_connections: POOL,
      duration_s: 10,
      body_bytes: sample.length,
    },
    targets: { p99_ms_below: 25, min_fraction_of_bare: 0.4 },
    results: rows,
  });
}
