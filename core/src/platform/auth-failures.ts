/**
 * The limit on refused tokens per client address: a token guessed at the rate of a script meets a 429 for the
 * rest of the minute, not a 401 per try. The API's authentication and the WebSocket upgrade share one.
 */
import type { Redis } from 'ioredis';

export interface AuthFailureLimiter {
  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(address: string): number;
  /** Counts one refused token from the address. */
  failed(address: string): Promise<void>;
  close(): Promise<void>;
}

/** Refused tokens per address in fixed one-minute windows, in this process (the embedded defaults run one). */
export function createAuthFailureLimiter(limit: number, windowMs = 60_000, maxAddresses = 100_000): AuthFailureLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const current = (address: string, now: number) => {
    const w = windows.get(address);
    return w && now - w.start < windowMs ? w : undefined;
  };
  return {
    retryAfter(address) {
      const now = Date.now();
      const w = current(address, now);
      return w && w.count >= limit ? Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) : 0;
    },
    async failed(address) {
      const now = Date.now();
      const w = current(address, now);
      if (w) w.count += 1;
      else {
        if (windows.size >= maxAddresses) windows.clear(); // a flood of addresses: start over rather than grow
        windows.set(address, { start: now, count: 1 });
      }
    },
    async close() {},
  };
}

// KEYS: the address's counter. ARGV: window (ms). Returns the count and the window's remaining ms.
const COUNT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`;

/**
 * The same limit counted in Redis, so every process and host counts one window per address: the count is
 * shared, not multiplied by the number of processes. The check on each request stays in memory: the process
 * whose count reaches the limit announces the block on a channel every process listens to, so a right token
 * guessed on another process is refused too, and an authenticated request costs no Redis round trip.
 * While Redis is unreachable refused tokens go uncounted (the limit opens rather than locking everyone out).
 */
export function createRedisAuthFailureLimiter(
  redis: Redis,
  subscriber: Redis,
  options: { limit: number; prefix: string; windowMs?: number; maxAddresses?: number },
): AuthFailureLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const channel = `${options.prefix}:auth-failures:blocked`;
  const blocked = new Map<string, number>();
  const block = (address: string, until: number) => {
    if (blocked.size >= (options.maxAddresses ?? 100_000)) blocked.clear();
    blocked.set(address, until);
  };
  subscriber.subscribe(channel).catch(() => {});
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { address, until } = JSON.parse(message) as { address: string; until: number };
      block(address, until);
    } catch {
      // not ours
    }
  });
  return {
    retryAfter(address) {
      const until = blocked.get(address);
      if (until === undefined) return 0;
      const left = until - Date.now();
      if (left > 0) return Math.max(1, Math.ceil(left / 1000));
      blocked.delete(address);
      return 0;
    },
    async failed(address) {
      try {
        const [count, ttl] = (await redis.eval(
          COUNT_SCRIPT,
          1,
          `${options.prefix}:auth-failures:${address}`,
          windowMs,
        )) as [number, number];
        if (count < options.limit) return;
        const until = Date.now() + Math.max(ttl, 1);
        block(address, until);
        if (count === options.limit) await redis.publish(channel, JSON.stringify({ address, until }));
      } catch {
        // Redis away: uncounted (see above).
      }
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
