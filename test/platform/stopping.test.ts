// Stopping as a supervisor stops (issue 21 point 3): SIGTERM or SIGINT to exactly the pid it started — npm's for
// `npm start` and each `start:*` script, node's for the bundle `npm run build` makes — drains and stops every
// process of the service within 10 s, embedded and on PostgreSQL and Redis, and frees the port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateTenants } from '@comms/core/tenancy';
import { testDatabaseUrl, testRedisUrl, uniqueSlug } from '../support/env.js';
import { testConfig } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { alive, descendants, portOpen } from '../support/processes.js';

const root = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'comms-stopping-'));
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

beforeAll(async () => {
  // The one-app scripts need a migrated registry (npm run db:migrate, in production).
  const { createRuntime } = await import('@comms/core/platform');
  const runtime = await createRuntime(testConfig());
  await migrateTenants(runtime);
  await runtime.close();
  execFileSync(process.execPath, ['tools/build.mjs', '--if-stale'], { cwd: root, stdio: 'ignore' });
}, 120_000);

interface Case {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** What the process prints when it is ready. */
  ready: RegExp;
  port?: number;
}

async function startAndStop(c: Case, signal: NodeJS.Signals) {
  const env: Record<string, string | undefined> = { ...process.env, ...c.env, HOST: '127.0.0.1' };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'NODE_ENV', 'SANDBOX_TRANSPORT'] as const)
    if (!(key in c.env)) delete env[key];
  const child = spawn(c.command[0]!, c.command.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${c.name}: not ready within 120 s:\n${out}`)), 120_000);
    const check = () => {
      if (c.ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${c.name}: exited ${code} before it was ready:\n${out}`)));
  });
  if (c.port) expect(await portOpen(c.port), `${c.name} listens`).toBe(true);
  const tree = [child.pid!, ...descendants(child.pid!)];
  const signalled = Date.now();
  process.kill(child.pid!, signal); // exactly the pid we hold, not its group
  while (tree.some(alive) && Date.now() - signalled < 12_000) await new Promise((r) => setTimeout(r, 100));
  const left = tree.filter(alive);
  started.delete(child);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return { left, seconds: (Date.now() - signalled) / 1000, portOpen: c.port ? await portOpen(c.port) : false, out };
}

const external = () => ({
  DATABASE_URL: testDatabaseUrl(),
  REDIS_URL: testRedisUrl(),
  QUEUE_PREFIX: uniqueSlug('stop'),
  JWT_SECRET: 'stop-secret-0123456789-abcdefghijkl',
});

describe('a supervisor stops the service with one signal to the pid it holds', () => {
  const cases: (() => Promise<Case>)[] = [
    async () => {
      const port = await freePort();
      return {
        name: 'npm start, embedded',
        command: ['npm', 'start'],
        // More processes cannot share an embedded database: it says so and serves from one.
        env: { PORT: String(port), PGLITE_DIR: dataDir, API_PROCESSES: '2' },
        ready: /Dev token/,
        port,
      };
    },
    async () => {
      const port = await freePort();
      return {
        name: 'npm start, PostgreSQL and Redis',
        command: ['npm', 'start'],
        env: { PORT: String(port), ...external() },
        ready: /"listening"|Dev token/,
        port,
      };
    },
    async () => {
      const port = await freePort();
      return {
        name: 'npm run start:api',
        command: ['npm', 'run', 'start:api'],
        env: { PORT: String(port), ...external() },
        ready: /api listening/,
        port,
      };
    },
    async () => {
      const port = await freePort();
      return {
        name: 'npm run start:gateway',
        command: ['npm', 'run', 'start:gateway'],
        env: { GATEWAY_PORT: String(port), ...external() },
        ready: /gateway listening|listening/,
        port,
      };
    },
    async () => ({
      name: 'npm run start:worker',
      command: ['npm', 'run', 'start:worker'],
      env: external(),
      ready: /worker started/,
    }),
    async () => {
      const port = await freePort();
      return {
        name: 'node dist/all-in-one.js (npm run build)',
        command: [process.execPath, 'dist/all-in-one.js'],
        env: { PORT: String(port), PGLITE_DIR: dataDir },
        ready: /Dev token/,
        port,
      };
    },
    async () => {
      const port = await freePort();
      return {
        name: 'npm start, PostgreSQL and Redis, 2 HTTP and 2 worker processes',
        command: ['npm', 'start'],
        env: { PORT: String(port), API_PROCESSES: '2', WORKER_PROCESSES: '2', ...external() },
        ready: /Dev token/,
        port,
      };
    },
    async () => {
      const port = await freePort();
      return {
        name: 'npm run start:api, API_PROCESSES=2',
        command: ['npm', 'run', 'start:api'],
        env: { PORT: String(port), API_PROCESSES: '2', ...external() },
        ready: /"primary":"api".*api listening/,
        port,
      };
    },
    async () => ({
      name: 'npm run start:worker, WORKER_PROCESSES=auto',
      command: ['npm', 'run', 'start:worker'],
      env: { WORKER_PROCESSES: 'auto', ...external() },
      ready: /"primary":"worker".*worker started/,
    }),
  ];

  it.each([
    ['npm start, embedded', 'SIGTERM', 0],
    ['npm start on PostgreSQL and Redis', 'SIGTERM', 1],
    ['npm run start:api', 'SIGTERM', 2],
    ['npm run start:gateway', 'SIGINT', 3],
    ['npm run start:worker', 'SIGTERM', 4],
    ['node dist/all-in-one.js', 'SIGTERM', 5],
    ['npm start with 2 HTTP and 2 worker processes', 'SIGTERM', 6],
    ['npm run start:api with API_PROCESSES=2', 'SIGINT', 7],
    ['npm run start:worker with WORKER_PROCESSES=auto', 'SIGTERM', 8],
  ] as const)(
    '%s: %s stops it within 10 s',
    async (_name, signal, index) => {
      const c = await cases[index]!();
      const result = await startAndStop(c, signal);
      expect(
        result.left,
        `${c.name}: processes still running ${result.seconds} s after ${signal}\n${result.out.slice(-2000)}`,
      ).toEqual([]);
      expect(result.seconds, c.name).toBeLessThan(10);
      expect(result.portOpen, `${c.name}: port still open`).toBe(false);
      // Its stdout is a pipe here, not a terminal: its log lines are JSON (pretty only on a TTY).
      const line = result.out.split('\n').find((l) => /listening|worker started/.test(l) && l.startsWith('{'));
      if (index === 0) expect(result.out).toMatch(/2 http processes and 1 worker process asked for, .* one process/);
      if (index >= 2 && index <= 4)
        expect(JSON.parse(line ?? 'null'), `${c.name}: a JSON log line`).toMatchObject({ level: 30 });
    },
    150_000,
  );
});
