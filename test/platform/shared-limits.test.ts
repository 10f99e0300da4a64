// What several processes or hosts coordinate on through Redis, each side with a connection of its own as two
// processes would have: a periodic job runs once per period, refused tokens are counted once per address, and a
// send rate is one schedule per account. (test/platform/processes.test.ts shows the same with real processes.)
import {
  createLogger,
  createRedisAuthFailureLimiter,
  createRedisRateLimiter,
  scheduleSingleton,
} from '@comms/core/platform';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testRedisUrl, uniqueSlug } from '../support/env.js';
import { eventually } from '../support/wait.js';

const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
  connections.push(redis);
  return redis;
};
afterAll(() => {
  for (const c of connections) c.disconnect();
});
const log = createLogger({ level: 'silent' });

describe('a periodic job across processes', () => {
  it('runs once when two processes tick in the same period', async () => {
    const prefix = uniqueSlug('single');
    let runs = 0;
    const job = async () => {
      runs += 1;
    };
    const a = scheduleSingleton({ name: 'sweeper', everyMs: 60_000, log, redis: connect(), prefix }, job);
    const b = scheduleSingleton({ name: 'sweeper', everyMs: 60_000, log, redis: connect(), prefix }, job);
    const ran = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    // Another job's name is another lock.
    const other = scheduleSingleton({ name: 'other', everyMs: 60_000, log, redis: connect(), prefix }, job);
    expect(await other.tick()).toBe(true);
    for (const s of [a, b, other]) s.stop();
  });

  it('keeps its lock while a run lasts longer than the period, so runs never overlap', async () => {
    const prefix = uniqueSlug('single');
    const noop = () => {};
    let release: () => void = noop;
    const slow = scheduleSingleton(
      { name: 'slow', everyMs: 300, log, redis: connect(), prefix },
      () => new Promise<void>((r) => (release = r)),
    );
    const other = scheduleSingleton({ name: 'slow', everyMs: 300, log, redis: connect(), prefix }, async () => {});
    slow.stop();
    other.stop();
    const running = slow.tick();
    await eventually(
      async () => release,
      (r) => r !== noop,
      5_000,
    );
    // Three periods later the first run still holds the lock.
    await new Promise((r) => setTimeout(r, 900));
    expect(await other.tick()).toBe(false);
    release();
    expect(await running).toBe(true);
  });
});

describe('refused tokens across processes', () => {
  it('counts one window per address, and a block reached on one process holds on the other', async () => {
    const prefix = uniqueSlug('authfail');
    const a = createRedisAuthFailureLimiter(connect(), connect(), { limit: 3, prefix });
    const b = createRedisAuthFailureLimiter(connect(), connect(), { limit: 3, prefix });
    await new Promise((r) => setTimeout(r, 200)); // both subscribed
    await a.failed('203.0.113.7');
    await a.failed('203.0.113.7');
    expect(a.retryAfter('203.0.113.7')).toBe(0);
    await b.failed('203.0.113.7'); // the third refusal, on the other process
    expect(b.retryAfter('203.0.113.7')).toBeGreaterThan(0);
    await eventually(
      async () => a.retryAfter('203.0.113.7'),
      (n) => n > 0,
      5_000,
    );
    expect(a.retryAfter('198.51.100.1')).toBe(0);
    await a.close();
    await b.close();
  });
});

describe('a send rate across processes', () => {
  it('is one schedule per account: what one process took, the other waits for', async () => {
    const prefix = uniqueSlug('rate');
    const a = createRedisRateLimiter(connect(), prefix);
    const b = createRedisRateLimiter(connect(), prefix);
    for (let i = 0; i < 5; i++) await a.take('acct-1', 5); // the burst of 5, all on one process
    const started = Date.now();
    await b.take('acct-1', 5);
    // At 5 a second the next turn is 200 ms on; a bucket of b's own would have answered at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
