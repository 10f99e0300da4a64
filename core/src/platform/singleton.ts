/**
 * Periodic jobs that must run once per period across every process and host (the pending sweeper, and any
 * other sweeper): each process ticks on its own timer, and a tick runs the job only if it takes the period's
 * lock in Redis (SET NX with an expiry of a little under one period). A run longer than that keeps extending its
 * lock, so two runs never overlap; the lock is never released early, so a run that ends quickly does not let
 * another process run again within the same period; a process that dies holding it blocks nobody past the expiry. On the embedded defaults (no Redis, one process) every tick runs.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

// KEYS: the lock. ARGV: its owner, the expiry (ms). Extends the lock only while this owner holds it.
const EXTEND_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export interface SingletonJob {
  /** One tick now, as the timer would: runs the job if this process wins the period; resolves whether it ran. */
  tick(): Promise<boolean>;
  stop(): void;
}

export interface SingletonOptions {
  /** Names the lock: the same name on every process and host means one runner per period. */
  name: string;
  everyMs: number;
  log: Logger;
  /** Redis and the deployment's key prefix; without them (embedded) each tick runs. */
  redis?: Redis | null;
  prefix?: string;
  /** Counts ticks that ran the job and ticks another process had already claimed (`periodic_job_ticks_total`). */
  metrics?: Registry;
}

function tickCounter(registry: Registry): Counter {
  return (
    (registry.getSingleMetric('periodic_job_ticks_total') as Counter | undefined) ??
    new Counter({
      name: 'periodic_job_ticks_total',
      help: 'Ticks of periodic jobs: ran here, or skipped because another process ran this period',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    })
  );
}

export function scheduleSingleton(options: SingletonOptions, job: () => Promise<unknown>): SingletonJob {
  const owner = randomUUID();
  const key = `${options.prefix ?? 'comms'}:singleton:${options.name}`;
  const ticks = options.metrics ? tickCounter(options.metrics) : null;
  let running = false;
  // A little under the period, so the next period's tick is not refused by this one's lock when timers drift.
  const ttl = Math.max(1, Math.floor(options.everyMs * 0.9));
  const claim = async () => {
    if (!options.redis) return true;
    return (await options.redis.set(key, owner, 'PX', ttl, 'NX')) === 'OK';
  };
  const extend = () =>
    options.redis?.eval(EXTEND_SCRIPT, 1, key, owner, ttl).catch(() => {
      // Redis away: the lock may lapse; the next period's claim decides again.
    });
  const tick = async () => {
    if (running) return false;
    running = true;
    try {
      if (!(await claim())) {
        ticks?.inc({ job: options.name, outcome: 'skipped' });
        return false;
      }
      ticks?.inc({ job: options.name, outcome: 'ran' });
      const keep = options.redis ? setInterval(() => void extend(), Math.max(1, Math.floor(ttl / 3))) : null;
      try {
        await job();
      } finally {
        if (keep) clearInterval(keep);
      }
      return true;
    } catch (err) {
      options.log.warn({ job: options.name, err: String(err) }, 'periodic job failed; will try again');
      return false;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.everyMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
