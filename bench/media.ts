// `npm run bench -- media`: inbound images through the gateway and the media-fetch job (BullMQ on Redis) from a fake
// WhatsApp Cloud API on loopback, beside two ceilings measured in each round:
// - the same path built from the bare tools (bench/servers/same-work-media-queue.ts, the target's ceiling): a
//   node:http route checking Meta's signature and calling ingest_webhook() with raw pg, then a bare BullMQ processor
//   making the same two Graph steps, hashing and writing the file, and running the job's statements;
// - the files alone: a bare node:http script fetching the same number of files in the same two Graph steps at the
//   queue's concurrency, hashing each (sha256) while writing it to a temporary file and renaming it to its content
//   address (bench/servers/same-work-media.ts): what the path costs beyond its bytes.
// The gateway and the worker run as processes of their own, the worker as `npm run start:worker` runs it (the bundle
// `dist/worker.js`), and the worker's RSS is sampled from /proc throughout. Each of BENCH_MEDIA_ROUNDS (default 3)
// rounds measures the ceilings, then 200 webhooks end to end (posted → every file stored and its `message_updated`
// published), then the jobs alone (200 webhooks answered and their jobs queued while the queue is paused, timed from
// its resume); the ratios are per round, their medians the figures, so a machine shared with other work moves both
// sides of a ratio. Then the API's GET /media/{id} beside a bare route streaming the same file with
// fs.createReadStream. Every side first fetches BENCH_MEDIA_WARMUP (default 20) other files, untimed, so none is
// measured while its code is still being compiled. BENCH_MEDIA_FILES (default 200) files of BENCH_MEDIA_BYTES
// (default 1 MiB) a round, webhooks posted BENCH_MEDIA_SENDERS (default 8) at a time.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { signedMetaWebhook, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { createApiApp, listen } from '@comms/api';
import { createChannelAccount } from '@comms/core/inbox';
import { createLogger, createRuntime, loadConfig, QUEUES, signToken } from '@comms/core/platform';
import { provisionTenant } from '@comms/core/tenancy';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BENCH_DB_URL, ensureBenchDatabase, load, printTable, startServer, stopOnExit, writeResult } from './lib.js';

const FILES = Number(process.env.BENCH_MEDIA_FILES ?? 200);
const WARMUP = Number(process.env.BENCH_MEDIA_WARMUP ?? 20);
const BYTES = Number(process.env.BENCH_MEDIA_BYTES ?? 1024 * 1024);
const SENDERS = Number(process.env.BENCH_MEDIA_SENDERS ?? 8);
const ROUNDS = Number(process.env.BENCH_MEDIA_ROUNDS ?? 3);
/** Every file the run fetches: the warm-up's, then per round the end-to-end set and the jobs-alone set. */
const ALL_FILES = WARMUP + ROUNDS * 2 * FILES;
const CONCURRENCY = QUEUES['media-fetch'].policy.concurrency;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PHONE_ID = '106540352242922';
const SECRET = 'bench-media-secret';
const TOKEN = 'EAAG-bench-media';
const JWT_SECRET = 'bench-media-jwt-secret-0123456789abcdef';
/** File i's WhatsApp media id. */
const MEDIA_ID = (i: number) => String(1_000_000 + i);
const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k);

const listenOn = (server: Server) =>
  new Promise<string>((r) =>
    server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

/** Reads every path through with `concurrency` at a time, discarding the bytes; seconds taken. */
async function readThrough(base: string, paths: string[], concurrency: number): Promise<number> {
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

/** The same-work ceiling (bench/servers/same-work-media.ts) in a process of its own, like the worker. */
function sameWorkFetch(
  fakeUrl: string,
  files: number[],
): Promise<{ seconds: number; cpuMs: number; peakRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-media-bare-'));
  return new Promise<{ seconds: number; cpuMs: number; peakRssMb: number }>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: a CPU profile of the ceiling too, as bench/lib.ts writes for the servers.
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
        '--import',
        'tsx',
        new URL('./servers/same-work-media.ts', import.meta.url).pathname,
      ],
      {
        env: {
          ...process.env,
          WHATSAPP_API_URL: fakeUrl,
          WHATSAPP_API_KEY: TOKEN,
          WARMUP_IDS: JSON.stringify(range(0, WARMUP).map(MEDIA_ID)),
          MEDIA_IDS: JSON.stringify(files.map(MEDIA_ID)),
          DIR: dir,
          CONCURRENCY: String(CONCURRENCY),
        },
      },
      (err, stdout, stderr) => {
        process.stderr.write(stderr);
        const m = /DONE (\S+) (\S+) (\S+)/.exec(stdout);
        if (err || !m) reject(err ?? new Error(`same-work-media: ${stdout}`));
        else resolve({ seconds: Number(m[1]), cpuMs: Number(m[2]), peakRssMb: Number(m[3]) });
      },
    );
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The worker as production starts it: the bundle `npm run start:worker` and the Docker image run (`node
 * dist/worker.js`, built first when stale), or with BENCH_MEDIA_WORKER=tsx from its TypeScript sources under tsx.
 * Ready once its media-fetch consumer is connected to the queue. Its sweeper is off, as in the other benchmarks.
 */
async function startWorkerProcess(env: Record<string, string>, queue: Queue): Promise<ChildProcess> {
  const root = new URL('../', import.meta.url).pathname;
  const tsx = process.env.BENCH_MEDIA_WORKER === 'tsx';
  if (!tsx) await promisify(execFile)(process.execPath, ['tools/build.mjs', '--if-stale'], { cwd: root });
  const entry = tsx ? ['--import', 'tsx', 'apps/worker/src/main.ts'] : ['dist/worker.js'];
  const child = stopOnExit(
    spawn(
      process.execPath,
      [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), ...entry],
      {
        cwd: root,
        env: { ...process.env, ...env, PENDING_SWEEP_INTERVAL_MS: '3600000' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    ),
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const started = performance.now();
  while ((await queue.getWorkers()).length === 0) {
    if (exited) throw new Error('the worker exited before it was ready');
    if (performance.now() - started > 60_000) throw new Error('the worker was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const statusOf = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const rssMbOf = (pid: number) => Number(statusOf(pid).match(/VmRSS:\s+(\d+)/)![1]) / 1024;
/** CPU time (user + system) a process has used, in ms (/proc/<pid>/stat, in clock ticks of 10 ms). */
const cpuMsOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

export async function run(): Promise<void> {
  await ensureBenchDatabase();
  // One random MiB, stamped with each file's number: distinct files (none deduplicated) without holding them all.
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
    const file = n >= 0 && n < ALL_FILES ? fileOf(n) : undefined;
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(file.length) });
    res.end(file);
  });
  const fakeUrl = await listenOn(fake);

  // For comparison with earlier runs (whose ceiling this was): the bytes alone read through and discarded.
  const readSeconds = await readThrough(
    fakeUrl,
    range(WARMUP, FILES).map((i) => `/cdn/${MEDIA_ID(i)}`),
    CONCURRENCY,
  );

  const mediaDir = mkdtempSync(join(tmpdir(), 'bench-media-'));
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: BENCH_DB_URL,
    REDIS_URL,
    QUEUE_PREFIX: `bench-media-${Date.now()}`,
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    WHATSAPP_API_URL: fakeUrl,
    MEDIA_DIR: mediaDir,
  };
  const runtime = await createRuntime(loadConfig(env), { log: createLogger({ level: 'silent', format: 'json' }) });
  const slug = `bench-media-${Date.now().toString(36)}`;
  await provisionTenant(runtime, { slug, name: 'Bench media' });
  const tenant = await runtime.tenants.resolve(slug);
  const schema = tenant.schemaName;
  await createChannelAccount(runtime.context(tenant), {
    provider: 'whatsapp',
    name: 'bench',
    identifier: PHONE_ID,
    credentials: { access_token: TOKEN, app_secret: SECRET, verify_token: 'v' },
  });
  // The same-work ceiling of the whole path stores into a tenant of its own: the same files in one tenant would be
  // deduplicated (content addresses), and neither side would do the other's work.
  const bareSlug = `${slug}-bare`;
  await provisionTenant(runtime, { slug: bareSlug, name: 'Bench media, bare' });
  const bareTenant = await runtime.tenants.resolve(bareSlug);
  const bareAccount = await createChannelAccount(runtime.context(bareTenant), {
    provider: 'whatsapp',
    name: 'bench',
    identifier: PHONE_ID,
    credentials: { access_token: TOKEN, app_secret: SECRET, verify_token: 'v' },
  });
  const bareDir = mkdtempSync(join(tmpdir(), 'bench-media-bare-queue-'));
  const bareEnv = {
    DATABASE_URL: BENCH_DB_URL,
    REDIS_URL,
    QUEUE_PREFIX: `${env.QUEUE_PREFIX}-bare`,
    SCHEMA: bareTenant.schemaName,
    ACCOUNT_ID: String(bareAccount.id),
    APP_SECRET: SECRET,
    WHATSAPP_API_URL: fakeUrl,
    WHATSAPP_API_KEY: TOKEN,
    DIR: bareDir,
    CONCURRENCY: String(CONCURRENCY),
  };
  // The route and the worker as two processes, each with its own pool, as the gateway and the worker are.
  const bareRoute = await startServer('same-work-media-queue', { ...bareEnv, ROLE: 'route' });
  const bareWorker = await startServer('same-work-media-queue', { ...bareEnv, ROLE: 'worker' });
  const db = new pg.Client({ connectionString: BENCH_DB_URL });
  await db.connect();
  const gateway = await startServer('gateway', env);
  const fetchQueue = new Queue('media-fetch', {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: env.QUEUE_PREFIX,
  });
  const worker = await startWorkerProcess(env, fetchQueue);
  const workerPid = worker.pid!;
  // Settled: the worker's connections are open and its first allocations done before the baseline is read.
  await new Promise((r) => setTimeout(r, 1_000));
  const baseline = rssMbOf(workerPid);
  let peak = baseline;
  let phasePeak = 0;
  const sampler = setInterval(() => {
    const now = rssMbOf(workerPid);
    peak = Math.max(peak, now);
    phasePeak = Math.max(phasePeak, now);
  }, 20);

  const webhook = (i: number) => {
    const from = `1650555${String(i).padStart(4, '0')}`;
    const payload = whatsappWebhook(
      [
        {
          contacts: [{ profile: { name: 'Bench' }, wa_id: from }],
          messages: [
            {
              from,
              id: `wamid.bench${randomUUID()}`,
              timestamp: String(Math.floor(Date.now() / 1000)),
              type: 'image',
              image: { mime_type: 'image/jpeg', sha256: 'x', id: MEDIA_ID(i) },
            },
          ],
        } as never,
      ],
      { phoneNumberId: PHONE_ID },
    );
    return signedMetaWebhook(payload, SECRET);
  };

  // Counted on the event bus: each item's `message_updated` is what shows its file to an open console.
  let settledEvents = 0;
  let failedEvents = 0;
  let onEvent = () => {};
  const unsubscribe = runtime.bus.subscribe((event) => {
    if (event.type !== 'message_updated' || event.tenant !== slug) return;
    const status = (event.data as { attachments: { status: string }[] }).attachments[0]?.status;
    settledEvents += 1;
    if (status !== 'stored') failedEvents += 1;
    onEvent();
  });

  /** Posts signed webhooks, SENDERS at a time; each sender waits for its answer before posting the next. */
  async function post(
    signed: { body: string; headers: Record<string, string> }[],
    url = `${gateway.url}/webhooks/${slug}/whatsapp`,
  ) {
    let posted = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (posted < signed.length) {
          const { body, headers } = signed[posted++]!;
          const res = await fetch(url, { method: 'POST', headers, body });
          if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        }
      }),
    );
  }

  /**
   * Posts the webhooks of files `files`, SENDERS at a time as a provider delivers them (Meta sends concurrently;
   * each sender waits for its answer before posting the next), and waits until every item is settled: its event
   * seen, or (should an event be lost, which would only make the run look slower) the table read every 250 ms.
   */
  async function inbound(files: number[], options: { jobsAlone?: boolean } = {}) {
    const signed = files.map(webhook);
    const target = settledEvents + files.length;
    const { rows } = await db.query(`select count(*)::int as n from "${schema}".inbox_messages`);
    const rowsTarget = rows[0].n + files.length;
    if (options.jobsAlone) {
      // The jobs alone: every webhook answered and every job queued while the queue is paused; the clock starts
      // when it is resumed.
      await fetchQueue.pause();
      await post(signed);
      while ((await fetchQueue.getWaitingCount()) < files.length) await new Promise((r) => setTimeout(r, 20));
    }
    const started = performance.now();
    if (options.jobsAlone) await fetchQueue.resume();
    let ingestSeconds = 0;
    const senders = (options.jobsAlone ? Promise.resolve() : post(signed)).then(() => {
      ingestSeconds = (performance.now() - started) / 1000;
    });
    let poll: NodeJS.Timeout | undefined;
    const settled = new Promise<void>((done) => {
      onEvent = () => settledEvents >= target && done();
      poll = setInterval(async () => {
        const { rows: r } = await db.query(
          `select count(*) filter (where attachments->0->>'status' <> 'pending')::int as n from "${schema}".inbox_messages`,
        );
        if (r[0].n >= rowsTarget) done();
      }, 250);
    });
    await Promise.race([settled, senders.then(() => settled)]);
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = Math.round(phasePeak);
    phasePeak = 0;
    clearInterval(poll);
    await senders;
    if (failedEvents) throw new Error(`${failedEvents} fetches failed`);
    return { seconds, ingestSeconds, peakRssMb };
  }

  /** The same webhooks through the bare path (bench/servers/same-work-media-queue.ts), until every item is settled. */
  async function bareInbound(files: number[]) {
    const signed = files.map(webhook);
    const settledNow = async () => Number(await (await fetch(`${bareWorker.url}/settled`)).text());
    const cpuNow = () => cpuMsOf(bareRoute.child.pid!) + cpuMsOf(bareWorker.child.pid!);
    const target = (await settledNow()) + files.length;
    const cpuBefore = cpuNow();
    const started = performance.now();
    await post(signed, `${bareRoute.url}/hook`);
    while ((await settledNow()) < target) await new Promise((r) => setTimeout(r, 20));
    return { seconds: (performance.now() - started) / 1000, cpuMs: cpuNow() - cpuBefore };
  }
  await bareInbound(range(0, WARMUP));

  // The machine may be shared: each round measures its ceiling just before our two runs, and the ratios are taken
  // per round (their median is the figure).
  await inbound(range(0, WARMUP));
  const rounds: {
    sameWork: Awaited<ReturnType<typeof sameWorkFetch>>;
    barePath: Awaited<ReturnType<typeof bareInbound>>;
    endToEnd: Awaited<ReturnType<typeof inbound>>;
    jobsAlone: Awaited<ReturnType<typeof inbound>>;
  }[] = [];
  const cpu = { gateway: 0, worker: 0, workerJobsAlone: 0, sameWork: 0, barePath: 0 };
  for (let r = 0; r < ROUNDS; r += 1) {
    const first = WARMUP + r * 2 * FILES;
    const sameWork = await sameWorkFetch(fakeUrl, range(first, FILES));
    const bare = await bareInbound(range(first, FILES));
    const before = { gateway: cpuMsOf(gateway.child.pid!), worker: cpuMsOf(workerPid) };
    const endToEnd = await inbound(range(first, FILES));
    const middle = cpuMsOf(workerPid);
    const jobsAlone = await inbound(range(first + FILES, FILES), { jobsAlone: true });
    cpu.gateway += cpuMsOf(gateway.child.pid!) - before.gateway;
    cpu.worker += middle - before.worker;
    cpu.workerJobsAlone += cpuMsOf(workerPid) - middle;
    cpu.sameWork += sameWork.cpuMs;
    cpu.barePath += bare.cpuMs;
    rounds.push({ sameWork, barePath: bare, endToEnd, jobsAlone });
  }
  await fetchQueue.close();
  clearInterval(sampler);
  unsubscribe();
  const { rows: outcome } = await db.query(
    `select count(*) filter (where attachments->0->>'status' = 'stored')::int as stored, count(*)::int as n
       from "${schema}".inbox_messages`,
  );
  if (outcome[0].stored !== outcome[0].n || outcome[0].n !== ALL_FILES)
    throw new Error(`${outcome[0].stored} of ${outcome[0].n} files stored, ${ALL_FILES} sent`);
  await new Promise<void>((done) => {
    worker.once('exit', () => done());
    worker.kill('SIGTERM');
  });
  await gateway.stop();
  await bareRoute.stop();
  await bareWorker.stop();
  rmSync(bareDir, { recursive: true, force: true });

  // Serving: the API's GET /media/{id} beside a bare route streaming the same file, both in this process.
  const server = await listen(createApiApp(runtime, { logRequests: false }).fetch, { host: '127.0.0.1', port: 0 });
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
  const perSec = (seconds: number) => Math.round(FILES / seconds);
  const files = ROUNDS * FILES;
  const results = {
    files: FILES,
    file_bytes: BYTES,
    fetch: {
      rounds: ROUNDS,
      warmup_files: WARMUP,
      webhooks_posted_at_once: SENDERS,
      job_concurrency: CONCURRENCY,
      // Medians over the rounds; each ratio is taken against its own round's ceiling.
      // The target's ratio: against the same path built from the bare tools (webhook route, ingest_webhook(), a bare
      // BullMQ processor with the same provider calls and statements).
      share_of_bare_path: median(rounds.map((r) => round2(r.barePath.seconds / r.endToEnd.seconds))),
      share_of_same_work: median(rounds.map((r) => round2(r.sameWork.seconds / r.endToEnd.seconds))),
      jobs_alone_share_of_same_work: median(rounds.map((r) => round2(r.sameWork.seconds / r.jobsAlone.seconds))),
      files_per_sec: median(rounds.map((r) => perSec(r.endToEnd.seconds))),
      mb_per_sec: median(rounds.map((r) => Math.round(mb / r.endToEnd.seconds))),
      jobs_alone_files_per_sec: median(rounds.map((r) => perSec(r.jobsAlone.seconds))),
      bare_path_files_per_sec: median(rounds.map((r) => perSec(r.barePath.seconds))),
      same_work_files_per_sec: median(rounds.map((r) => perSec(r.sameWork.seconds))),
      same_work_mb_per_sec: median(rounds.map((r) => Math.round(mb / r.sameWork.seconds))),
      read_only_files_per_sec: perSec(readSeconds),
      per_round: rounds.map((r) => ({
        bare_path_files_per_sec: perSec(r.barePath.seconds),
        same_work_files_per_sec: perSec(r.sameWork.seconds),
        end_to_end_files_per_sec: perSec(r.endToEnd.seconds),
        webhooks_answered_seconds: round2(r.endToEnd.ingestSeconds),
        end_to_end_seconds: round2(r.endToEnd.seconds),
        jobs_alone_files_per_sec: perSec(r.jobsAlone.seconds),
        worker_peak_rss_mb: [r.endToEnd.peakRssMb, r.jobsAlone.peakRssMb],
      })),
      // CPU per file, less sensitive to a shared machine than rates: ours by process, and the ceiling's.
      cpu_ms_per_file: {
        // The gateway answers each round's webhooks twice: end to end, and again for the jobs alone.
        gateway: round2(cpu.gateway / (2 * files)),
        worker: round2(cpu.worker / files),
        worker_jobs_alone: round2(cpu.workerJobsAlone / files),
        same_work: round2(cpu.sameWork / files),
        bare_path: round2(cpu.barePath / files),
      },
      worker_command:
        process.env.BENCH_MEDIA_WORKER === 'tsx'
          ? 'node --import tsx apps/worker/src/main.ts'
          : 'node dist/worker.js (npm run start:worker, the Docker image)',
      worker_baseline_rss_mb: Math.round(baseline),
      // The first round is the measurement (200 files after the warm-up); the peak over every round shows
      // how far V8 lets the old generation grow before its next full collection.
      worker_peak_rss_first_round_mb: rounds[0]!.endToEnd.peakRssMb,
      worker_peak_rss_mb: Math.round(peak),
      worker_rss_growth_mb: Math.round(peak - baseline),
      same_work_peak_rss_mb: Math.max(...rounds.map((r) => r.sameWork.peakRssMb)),
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
      what: 'media-fetch jobs alone (200 queued, then resumed)',
      files_per_sec: results.fetch.jobs_alone_files_per_sec,
    },
    {
      what: 'the same path, bare (route, ingest_webhook(), BullMQ processor)',
      files_per_sec: results.fetch.bare_path_files_per_sec,
      mb_per_sec: Math.round(results.fetch.bare_path_files_per_sec * (BYTES / 2 ** 20)),
    },
    {
      what: 'the files alone, bare (node:http two steps, sha256, disk)',
      files_per_sec: results.fetch.same_work_files_per_sec,
      mb_per_sec: results.fetch.same_work_mb_per_sec,
    },
    { what: 'bytes read through only (earlier ceiling)', files_per_sec: results.fetch.read_only_files_per_sec },
    { what: 'GET /media/{id} (API)', requests_per_sec: api.requests_per_sec, p99_ms: api.p99_ms },
    { what: 'bare fs.createReadStream route', requests_per_sec: ceiling.requests_per_sec, p99_ms: ceiling.p99_ms },
  ]);
  console.log(
    `fetch at ${results.fetch.share_of_bare_path} of the same path built bare, ${results.fetch.share_of_same_work} of the files alone done bare, the jobs alone at ${results.fetch.jobs_alone_share_of_same_work} (medians of ${ROUNDS} rounds); serving at ${results.serve.share_of_bare} of bare; worker RSS ${results.fetch.worker_baseline_rss_mb} MB, peak ${results.fetch.worker_peak_rss_first_round_mb} MB in the first round, ${results.fetch.worker_peak_rss_mb} MB over all`,
  );
  console.log('per round:', JSON.stringify(results.fetch.per_round));
  console.log('CPU ms per file:', JSON.stringify(results.fetch.cpu_ms_per_file));
  writeResult(process.env.BENCH_MEDIA_WORKER === 'bundle' ? 'media-bundle' : 'media', results);

  await db.end();
  await server.close();
  bare.close();
  fake.close();
  await runtime.close();
  rmSync(mediaDir, { recursive: true, force: true });
}
