/** The embedded-mode queue: same contract as BullMQ (job ids dedupe, retries with backoff), in memory. */
import type { Logger } from '../logger.js';
import { backoffDelay, dedupeKeyOf, type JobData, QUEUES, type QueueName } from './definitions.js';
import { PermanentJobError, type Processor, type Queues } from './contract.js';

interface Job {
  id: string;
  name: QueueName;
  data: unknown;
  attempt: number;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
  timer?: NodeJS.Timeout;
  /** The queue's dedupe key (`dedupeKeyOf`), if any. */
  dedupe?: string;
}

export function createInProcessQueues(log: Logger): Queues {
  const jobs = new Map<string, Job>();
  const processors = new Map<QueueName, Processor<QueueName>>();
  const active = new Map<QueueName, number>();
  const inFlight = new Set<Promise<void>>();
  // Dedupe keys: the job holding each (waiting, delayed or active), and the job to add when an active one finishes.
  const holders = new Map<string, Job>();
  const nextOf = new Map<string, { name: QueueName; data: unknown }>();
  let sequence = 0;
  let closed = false;

  const enqueue = (name: QueueName, data: unknown, delayMs: number, dedupe: string | null) => {
    if (dedupe) {
      const holder = holders.get(dedupe);
      if (holder?.state === 'active') {
        nextOf.set(dedupe, { name, data });
        return;
      }
      if (holder) return;
    }
    const def = QUEUES[name];
    const id = dedupe ? `${dedupe}#${++sequence}` : (def.jobId as (d: unknown) => string)(data);
    const existing = jobs.get(id);
    // Same rule as BullMQ: a finished job is replaced, a waiting or active one dedupes.
    if (existing && existing.state !== 'failed' && existing.state !== 'completed') return;
    const job: Job = { id, name, data, attempt: 0, state: 'waiting', ...(dedupe ? { dedupe } : {}) };
    jobs.set(id, job);
    if (dedupe) holders.set(dedupe, job);
    schedule(job, delayMs);
  };

  // A finished job lets go of its dedupe key; the one kept while it ran is queued now.
  const release = (job: Job) => {
    if (!job.dedupe || holders.get(job.dedupe) !== job) return;
    holders.delete(job.dedupe);
    const next = nextOf.get(job.dedupe);
    if (next) {
      nextOf.delete(job.dedupe);
      enqueue(next.name, next.data, 0, job.dedupe);
    }
  };

  const schedule = (job: Job, delayMs: number) => {
    job.state = delayMs > 0 ? 'delayed' : 'waiting';
    job.timer = setTimeout(() => run(job), delayMs);
    job.timer.unref?.();
  };

  const run = (job: Job) => {
    if (closed) return;
    const processor = processors.get(job.name);
    const policy = QUEUES[job.name].policy;
    if (!processor || (active.get(job.name) ?? 0) >= policy.concurrency) {
      schedule(job, 50);
      return;
    }
    job.state = 'active';
    job.attempt += 1;
    active.set(job.name, (active.get(job.name) ?? 0) + 1);
    const p = processor(job.data as JobData<QueueName>, {
      id: job.id,
      attempt: job.attempt,
      isLastAttempt: job.attempt >= policy.attempts,
    })
      .then(() => {
        job.state = 'completed';
        release(job);
        // Keep the id a while, as BullMQ does, so an immediate re-add is still a no-op.
        setTimeout(() => jobs.delete(job.id), 60_000).unref?.();
      })
      .catch((err: unknown) => {
        if (err instanceof PermanentJobError || job.attempt >= policy.attempts) {
          job.state = 'failed';
          release(job);
          log.warn({ queue: job.name, job_id: job.id, attempt: job.attempt, err: String(err) }, 'job failed');
          return;
        }
        schedule(job, backoffDelay(policy.backoffMs, job.attempt));
      })
      .finally(() => {
        active.set(job.name, (active.get(job.name) ?? 1) - 1);
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  return {
    kind: 'in-process',
    async add(name, data, options) {
      const parsed = QUEUES[name].schema.parse(data) as JobData<typeof name>;
      enqueue(name, parsed, options?.delayMs ?? 0, dedupeKeyOf(name, parsed));
    },
    process(name, processor) {
      processors.set(name, processor as unknown as Processor<QueueName>);
    },
    async counts() {
      const out = {} as Awaited<ReturnType<Queues['counts']>>;
      for (const name of Object.keys(QUEUES) as QueueName[]) {
        out[name] = { waiting: 0, active: 0, delayed: 0, failed: 0 };
      }
      for (const job of jobs.values()) {
        const c = out[job.name];
        if (job.state === 'waiting' || job.state === 'active' || job.state === 'delayed' || job.state === 'failed')
          c[job.state] += 1;
      }
      return out;
    },
    async ping() {},
    async close() {
      closed = true;
      for (const job of jobs.values()) if (job.timer) clearTimeout(job.timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
