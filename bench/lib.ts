/** Shared bench helpers: child-process servers, autocannon runs, tables, results files. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';

export const RESULTS_DIR = new URL('./results/', import.meta.url);

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Resident set size of the server process (MB), from /proc. */
  rssMb(): number;
  stop(): Promise<void>;
}

// Processes a benchmark started are stopped when it exits, also when it fails half-way and never reaches its stop().
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGTERM');
});

/** Stops `child` when the benchmark's process exits, if it has not stopped by then. */
export function stopOnExit(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** Starts a bench server script (`bench/servers/<name>.ts`) that prints `LISTENING <url>` when ready. */
export function startServer(script: string, env: Record<string, string | undefined> = {}): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: each server writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
        '--import',
        'tsx',
        new URL(`./servers/${script}.ts`, import.meta.url).pathname,
      ],
      {
        env: { ...process.env, LOG_LEVEL: 'silent', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    stopOnExit(child);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/LISTENING (\S+)/);
      if (m)
        resolve({
          child,
          url: m[1]!,
          rssMb: () => {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
          },
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
}

export interface LoadResult {
  requests_per_sec: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
}

export async function load(
  url: string,
  options: { connections?: number; duration?: number; headers?: Record<string, string> } = {},
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections ?? 20,
    duration: options.duration ?? 10,
    headers: options.headers,
  });
  return {
    requests_per_sec: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function machine() {
  return {
    cpus: os.cpus().length,
    // What this run had: the cores Node may use and the load on them (the machine may be shared).
    available_parallelism: os.availableParallelism(),
    load_average_1_5_15m: os.loadavg().map((n) => Math.round(n * 100) / 100),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function printTable(rows: Record<string, unknown>[]): void {
  const m = machine();
  console.log(`${m.available_parallelism} cores; load average ${m.load_average_1_5_15m.join(' / ')} (1 / 5 / 15 min)`);
  console.table(rows);
}

export function writeResult(name: string, data: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = new URL(`${name}.json`, RESULTS_DIR);
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: name, measured_at: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2)}\n`,
  );
  console.log(`wrote ${file.pathname}`);
}

/** The benchmarks' own database (BENCH_DATABASE_URL), created when missing. */
export const BENCH_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comms_bench';

export async function ensureBenchDatabase(url = BENCH_DB_URL): Promise<void> {
  const target = new URL(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const name = target.pathname.slice(1);
    if (!(await c.query('select 1 from pg_database where datname = $1', [name])).rowCount)
      await c.query(`create database "${name}"`);
  } finally {
    await c.end();
  }
}
