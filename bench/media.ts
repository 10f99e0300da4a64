// `npm run bench -- media`: inbound images through the gateway and the media-fetch job (BullMQ on Redis) from a fake
// WhatsApp Cloud API on loopback, beside a bare node:http download of the same files in the same run; then the API's
// GET /media/{id} beside a bare route streaming the same file with fs.createReadStream. Peak RSS of the process
// (gateway, worker and API together, as `npm start` runs them) is sampled while fetching.
// BENCH_MEDIA_FILES (default 200) files of BENCH_MEDIA_BYTES (default 1 MiB).
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedMetaWebhook, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { createApiApp, listen } from '@comms/api';
import { routeWebhooks, createGatewayApp } from '@comms/gateway';
import { createChannelAccount } from '@comms/core/inbox';
import { createRuntime, createLogger, loadConfig, signToken } from '@comms/core/platform';
import { provisionTenant } from '@comms/core/tenancy';
import { startWorker } from '@comms/worker';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, load, printTable, writeResult } from './lib.js';

const FILES = Number(process.env.BENCH_MEDIA_FILES ?? 200);
const BYTES = Number(process.env.BENCH_MEDIA_BYTES ?? 1024 * 1024);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PHONE_ID = '106540352242922';
const SECRET = 'bench-media-secret';
const TOKEN = 'EAAG-bench-media';
const JWT_SECRET = 'bench-media-jwt-secret-0123456789abcdef';

const listenOn = (server: Server) =>
  new Promise<string>((r) =>
    server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

/** Downloads every path with `concurrency` at a time, reading each body through; seconds taken. */
async function bareDownloads(base: string, paths: string[], concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const one = (path: string) =>
    new Promise<void>((resolve, reject) =>
      get(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve());
        res.on('error', reject);
      }).on('error', reject),
    );
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) await one(paths[next++]!);
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function run(): Promise<void> {
  await ensureBenchDatabase();
  // One random MiB, stamped with each file's number: distinct files (none deduplicated) without holding them all in
  // this process, whose RSS is what is measured.
  const base = randomBytes(BYTES);
  const fileOf = (i: number) => {
    const b = Buffer.from(base);
    b.writeUInt32BE(i, 0);
    return b;
  };
  // The fake Cloud API: GET /{media-id} answers the URL; the URL answers the bytes.
  const fake = createServer((req, res) => {
    const meta = /^\/(\d+)$/.exec(req.url ?? '');
    if (meta) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          messaging_product: 'whatsapp',
          url: `${fakeUrl}/cdn/${meta[1]}`,
          mime_type: 'image/jpeg',
          file_size: BYTES,
          id: meta[1],
        }),
      );
    }
    const cdn = /^\/cdn\/(\d+)$/.exec(req.url ?? '');
    const n = cdn ? Number(cdn[1]) - 1_000_000 : -1;
    const file = n >= 0 && n < FILES ? fileOf(n) : undefined;
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(file.length) });
    res.end(file);
  });
  const fakeUrl = await listenOn(fake);

  // Ceiling: the same files by plain node:http, same concurrency as the media-fetch queue (8).
  const bareSeconds = await bareDownloads(
    fakeUrl,
    Array.from({ length: FILES }, (_, i) => `/cdn/${1_000_000 + i}`),
    8,
  );

  const mediaDir = mkdtempSync(join(tmpdir(), 'bench-media-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: BENCH_DB_URL,
    REDIS_URL,
    QUEUE_PREFIX: `bench-media-${Date.now()}`,
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    WHATSAPP_API_URL: fakeUrl,
    MEDIA_DIR: mediaDir,
  });
  const runtime = await createRuntime(config, { log: createLogger({ level: 'silent', format: 'json' }) });
  const slug = `bench-media-${Date.now().toString(36)}`;
  await provisionTenant(runtime, { slug, name: 'Bench media' });
  const tenant = await runtime.tenants.resolve(slug);
  const ctx = runtime.context(tenant);
  await createChannelAccount(ctx, {
    provider: 'whatsapp',
    name: 'bench',
    identifier: PHONE_ID,
    credentials: { access_token: TOKEN, app_secret: SECRET, verify_token: 'v' },
  });
  const worker = startWorker(runtime, { sweepEveryMs: 3_600_000 });
  const server = await listen(
    routeWebhooks(createGatewayApp(runtime), createApiApp(runtime, { logRequests: false }).fetch),
    {
      host: '127.0.0.1',
      port: 0,
    },
  );

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  for (let i = 0; i < FILES; i += 1) {
    const payload = whatsappWebhook(
      [
        {
          contacts: [{ profile: { name: 'Bench' }, wa_id: `1650555${String(i).padStart(4, '0')}` }],
          messages: [
            {
              from: `1650555${String(i).padStart(4, '0')}`,
              id: `wamid.bench${randomUUID()}`,
              timestamp: String(Math.floor(Date.now() / 1000)),
              type: 'image',
              image: { mime_type: 'image/jpeg', sha256: 'x', id: String(1_000_000 + i) },
            },
          ],
        } as never,
      ],
      { phoneNumberId: PHONE_ID },
    );
    const { body, headers } = signedMetaWebhook(payload, SECRET);
    const res = await fetch(`${server.url}/webhooks/${slug}/whatsapp`, { method: 'POST', headers, body });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  }
  const db = new pg.Client({ connectionString: BENCH_DB_URL });
  await db.connect();
  const schema = tenant.schemaName;
  for (;;) {
    const { rows } = await db.query(
      `select count(*) filter (where attachments->0->>'status' = 'stored')::int as stored,
              count(*) filter (where attachments->0->>'status' in ('failed','rejected'))::int as failed
         from "${schema}".inbox_messages`,
    );
    if (rows[0].stored + rows[0].failed >= FILES) {
      if (rows[0].failed) throw new Error(`${rows[0].failed} fetches failed`);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const fetchSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);

  // Serving: the API's GET /media/{id} beside a bare route streaming the same file.
  const { rows } = await db.query(`select id, storage_key from "${schema}".media order by id limit 1`);
  const mediaId = rows[0].id as number;
  const path = join(mediaDir, rows[0].storage_key.slice(0, 2), rows[0].storage_key);
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(BYTES) });
    createReadStream(path).pipe(res);
  });
  const bareUrl = await listenOn(bare);
  const token = await signToken(JWT_SECRET, { sub: randomUUID(), tenant_slug: slug, role: 'tenant_user' });
  const duration = Number(process.env.BENCH_DURATION ?? 8);
  const ceiling = await load(`${bareUrl}/file`, { connections: 10, duration });
  const api = await load(`${server.url}/api/v1/tenants/${slug}/communications/media/${mediaId}`, {
    connections: 10,
    duration,
    headers: { authorization: `Bearer ${token}` },
  });

  const mb = (FILES * BYTES) / 2 ** 20;
  const results = {
    files: FILES,
    file_bytes: BYTES,
    fetch: {
      files_per_sec: Math.round(FILES / fetchSeconds),
      mb_per_sec: Math.round(mb / fetchSeconds),
      bare_files_per_sec: Math.round(FILES / bareSeconds),
      bare_mb_per_sec: Math.round(mb / bareSeconds),
      share_of_bare: Math.round((bareSeconds / fetchSeconds) * 100) / 100,
      peak_rss_mb: Math.round(peak / 2 ** 20),
      rss_growth_mb: Math.round((peak - baseline) / 2 ** 20),
    },
    serve: {
      api_requests_per_sec: api.requests_per_sec,
      api_p99_ms: api.p99_ms,
      api_non2xx: api.non2xx,
      bare_requests_per_sec: ceiling.requests_per_sec,
      share_of_bare: Math.round((api.requests_per_sec / Math.max(1, ceiling.requests_per_sec)) * 100) / 100,
    },
  };
  printTable([
    {
      what: 'inbound fetch (gateway → job → store)',
      files_per_sec: results.fetch.files_per_sec,
      mb_per_sec: results.fetch.mb_per_sec,
    },
    {
      what: 'bare node:http download',
      files_per_sec: results.fetch.bare_files_per_sec,
      mb_per_sec: results.fetch.bare_mb_per_sec,
    },
    { what: 'GET /media/{id} (API)', requests_per_sec: api.requests_per_sec, p99_ms: api.p99_ms },
    { what: 'bare fs.createReadStream route', requests_per_sec: ceiling.requests_per_sec, p99_ms: ceiling.p99_ms },
  ]);
  console.log(
    `fetch at ${results.fetch.share_of_bare} of bare; serving at ${results.serve.share_of_bare} of bare; peak RSS ${results.fetch.peak_rss_mb} MB`,
  );
  writeResult('media', results);

  await db.end();
  await worker.close();
  await server.close();
  bare.close();
  fake.close();
  await runtime.close();
  rmSync(mediaDir, { recursive: true, force: true });
}
