// `npm run bench -- startup`: `npm start` on the embedded defaults (PGlite, in-process queue) to a 200 on /health,
// first on an empty data directory (cold: the database is created and migrated) and then again on it (warm), with
// the resident memory of the service once it answers; then, for comparison, warm with DATABASE_URL and REDIS_URL
// (PostgreSQL and Redis running beside it, as in production): what PGlite itself costs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DB_URL, ensureBenchDatabase, printTable, writeResult } from './lib.js';

const root = new URL('../', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function below(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.map(Number).flatMap((c) => [c, ...below(c)]);
}

async function startOnce(dataDir: string, services: Record<string, string> = {}) {
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, PGLITE_DIR: dataDir, PORT: String(port) };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'NODE_ENV', 'JWT_SECRET']) delete env[key];
  Object.assign(env, services);
  const started = performance.now();
  const child = spawn('npm', ['start'], { cwd: root, env, stdio: 'ignore' });
  let ms = 0;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) {
        ms = Math.round(performance.now() - started);
        break;
      }
    } catch {}
    if (performance.now() - started > 120_000) throw new Error('no 200 on /health within 120 s');
    await new Promise((r) => setTimeout(r, 25));
  }
  // npm runs the script in a shell that execs node: the service is the process below npm running the bundle.
  const service = below(child.pid!).find((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/all-in-one.js'),
  );
  const rss = Number(readFileSync(`/proc/${service}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
  return { ms, rss_mb: Math.round(rss) };
}

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  try {
    const cold = await startOnce(dataDir);
    const warm = await startOnce(dataDir);
    const url = BENCH_DB_URL.replace(/\/[^/]*$/, '/comms_bench_startup');
    await ensureBenchDatabase(url);
    const services = { DATABASE_URL: url, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
    await startOnce(dataDir, services); // migrates the database once
    const external = await startOnce(dataDir, services);
    const rows = [
      { start: 'cold (empty data directory)', to_health_200_ms: cold.ms, rss_mb: cold.rss_mb },
      { start: 'warm (same data directory)', to_health_200_ms: warm.ms, rss_mb: warm.rss_mb },
      { start: 'warm, DATABASE_URL and REDIS_URL (no PGlite)', to_health_200_ms: external.ms, rss_mb: external.rss_mb },
    ];
    printTable(rows);
    writeResult('startup', {
      setup: { command: 'npm start', defaults: 'embedded (PGlite, in-process queue and bus)' },
      targets: { warm_ms_below: 3_000, rss_mb_below: 150 },
      results: rows,
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
