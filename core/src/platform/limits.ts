/**
 * Limits that hold per account or per client address however many processes and hosts serve: in Redis when
 * there is one, in this process on the embedded defaults (which run one process).
 */
import type { Redis } from 'ioredis';

/** A send rate per key (a channel account): a caller waits for its turn instead of failing. */
export interface RateLimiter {
  /** Waits until the key may do one more thing at `perSecond` (bursts of up to `perSecond`). */
  take(key: string, perSecond: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A token bucket per key in this process. */
export function createLocalRateLimiter(): RateLimiter {
  const buckets = new Map<string, { tokens: number; updated: number }>();
  return {
    async take(key, perSecond) {
      for (;;) {
        const now = Date.now();
        const b = buckets.get(key) ?? { tokens: perSecond, updated: now };
        b.tokens = Math.min(perSecond, b.tokens + ((now - b.updated) / 1000) * perSecond);
        b.updated = now;
        buckets.set(key, b);
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return;
        }
        await sleep(Math.ceil(((1 - b.tokens) / perSecond) * 1000));
      }
    },
  };
}

// GCRA (the generic cell rate algorithm): one number per key, the theoretical arrival time of the next request,
// on Redis's own clock so hosts with skewed clocks share one schedule. Same burst as the local bucket.
// KEYS: the key. ARGV: interval (µs), burst (tokens). Returns 0 when granted, else µs to wait.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next = tat + interval
local wait = next - now - burst * interval
if wait > 0 then return wait end
redis.call('SET', KEYS[1], tostring(next), 'PX', math.ceil((next - now) / 1000) + 1)
return 0
`;

/** One schedule per key in Redis, shared by every process and host on it. */
export function createRedisRateLimiter(redis: Redis, prefix: string): RateLimiter {
  return {
    async take(key, perSecond) {
      const interval = Math.max(1, Math.round(1_000_000 / perSecond));
      const burst = Math.max(1, Math.floor(perSecond));
      for (;;) {
        const wait = Number(await redis.eval(GCRA_SCRIPT, 1, `${prefix}:rate:${key}`, interval, burst));
        if (wait <= 0) return;
        await sleep(Math.max(1, Math.ceil(wait / 1000)));
      }
    },
  };
}
