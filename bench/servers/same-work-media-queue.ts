// The same-work ceiling of the inbound media path end to end, built from the bare tools (the gateway benchmark's
// `ingest_webhook()` ceiling, and a bare BullMQ processor with the same provider calls and statements as the job):
// - POST /hook, a node:http route: the body's HMAC-SHA256 checked against `x-hub-signature-256` as Meta signs it, the
//   JSON read, the message stored by the same `ingest_webhook()` call the gateway makes (raw `pg`), the fetch queued
//   on a bare BullMQ queue, 200;
// - a bare BullMQ worker (CONCURRENCY jobs at a time): the item and its account loaded in the job's statement, the
//   two Graph steps with node:http and the bearer token, the body hashed (sha256) while written to a temporary file in
//   DIR/tmp and renamed to its content address, the media row inserted and the item settled with the job's
//   statements, the message's event appended to a Redis stream.
// No validation library, no logger, no metrics, no outbox, no retries. GET /settled answers how many items are
// settled. Prints `LISTENING <url>` (bench/lib.ts startServer).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { fetchFile } from './bare-fetch.js';

const env = process.env;
const schema = `"${env.SCHEMA}"`;
const accountId = Number(env.ACCOUNT_ID);
const graph = env.WHATSAPP_API_URL!;
const token = env.WHATSAPP_API_KEY!;
const appSecret = env.APP_SECRET!;
const dir = env.DIR!;
const concurrency = Number(env.CONCURRENCY ?? 8);
const prefix = env.QUEUE_PREFIX ?? `bench-bare-${Date.now()}`;

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.POOL ?? 10) });
const connection = () => new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const redis = connection();
const queue = new Queue('bare-media-fetch', { connection: connection(), prefix });
let settled = 0;

interface Hook {
  entry: { changes: { value: { messages?: { id: string; from: string; timestamp: string; image: Image }[] } }[] }[];
}
interface Image {
  id: string;
  mime_type: string;
}

function signed(body: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function hook(body: Buffer): Promise<void> {
  const payload = body.toString('utf8');
  const messages = (JSON.parse(payload) as Hook).entry.flatMap((e) =>
    e.changes.flatMap((c) =>
      (c.value.messages ?? []).map((m) => ({
        external_id: m.id,
        type: 'image',
        content: null,
        media_url: null,
        attachments: [
          {
            id: null,
            url: null,
            provider_id: m.image.id,
            provider_url: null,
            mime_type: m.image.mime_type,
            sha256: null,
            filename: null,
            caption: null,
            status: 'pending',
            error: null,
          },
        ],
        metadata: {},
        provider_ts: new Date(Number(m.timestamp) * 1000).toISOString(),
        sender: m.from,
        name: null,
        refs: [],
        preview: '[image]',
        max_per_minute: 20,
        spam: [{ reason: 'more than 20 messages a minute', when: 'rate' }],
      })),
    ),
  );
  const dedupe = createHash('sha256').update(payload).digest('hex');
  const { rows } = await pool.query(
    `select ${schema}.ingest_webhook('bare-media', $1, 'whatsapp', $2, $3, 'application/json', true, $4::jsonb) as outcome`,
    [accountId, dedupe, payload, JSON.stringify(messages)],
  );
  const outcome = rows[0].outcome as { messages?: { stored: boolean; message?: { id: number } }[] };
  for (const m of outcome.messages ?? [])
    if (m.stored && m.message)
      await queue.add('fetch', { message_id: m.message.id, index: 0 }, { jobId: `${m.message.id}-0` });
}

async function fetchJob(data: { message_id: number; index: number }): Promise<void> {
  const { rows } = await pool.query(
    `select m.attachments -> $2::int as item, to_jsonb(a) as account
       from ${schema}.inbox_messages m left join ${schema}.channel_accounts a on a.id = m.channel_account_id
      where m.id = $1`,
    [data.message_id, data.index],
  );
  const item = rows[0]?.item as { provider_id: string; mime_type: string; status: string } | undefined;
  if (item?.status !== 'pending') return;
  const { sha256: sha, size } = await fetchFile(graph, token, item.provider_id, dir);
  const media = await pool.query(
    `insert into ${schema}.media as m (sha256, mime_type, size, filename, backend, storage_key)
     values ($1, $2, $3, null, 'local', $1) on conflict do nothing returning to_jsonb(m.*) as row`,
    [sha, item.mime_type, size],
  );
  const id = media.rows[0]?.row.id ?? null;
  const fields = { id, mime_type: item.mime_type, size, sha256: sha, status: 'stored', error: null };
  const updated = await pool.query(
    `update ${schema}.inbox_messages m
        set attachments = jsonb_set(m.attachments, array[$2::int::text], (m.attachments -> $2::int) || $3::jsonb)
      where m.id = $1 and m.attachments -> $2::int ->> 'status' = 'pending'
  returning to_jsonb(m.*) as row`,
    [data.message_id, data.index, JSON.stringify(fields)],
  );
  if (updated.rows[0])
    await redis.xadd(
      `${prefix}:events`,
      'MAXLEN',
      '~',
      '10000',
      '*',
      'event',
      JSON.stringify({ type: 'message_updated', data: updated.rows[0].row }),
    );
  settled += 1;
}

// ROLE=route or ROLE=worker: the two halves as processes of their own, each with its own pool, as the gateway and
// the worker are; both answer GET /settled (the worker's count is the one that moves).
const role = env.ROLE ?? 'both';
await mkdir(join(dir, 'tmp'), { recursive: true });
if (role !== 'route')
  new Worker('bare-media-fetch', (job) => fetchJob(job.data), { connection: connection(), prefix, concurrency }).on(
    'failed',
    (_job, err) => console.error(`bare media fetch failed: ${err.message}`),
  );

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/settled') return res.end(String(settled));
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!signed(body, req.headers['x-hub-signature-256'] as string | undefined)) {
      res.writeHead(401);
      return res.end();
    }
    hook(body).then(
      () => res.end('ok'),
      (err: unknown) => {
        console.error(`bare hook failed: ${String(err)}`);
        res.writeHead(503);
        res.end(String(err));
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
