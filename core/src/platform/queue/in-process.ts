/** The embedded-mode queue: same contract as BullMQ (job ids dedupe, retries with backoff), in memory. */
import type { Logger } from '../logger.js';
import { backoffDelay, type JobData, QUEUES, type QueueName } from './definitions.js';
import { PermanentJobError, type Processor, type Queues } from './contract.js';

interface Job {
  id: string;
  name: QueueName;
  data: unknown;
  attempt: number;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
  timer?: NodeJS.Timeout;
}

export function createInProcessQueues(log: Logger): Queues {
  const jobs = new Map<string, Job>();
  const processors = new Map<QueueName, Processor<QueueName>>();
  const active = new Map<QueueName, number>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

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
        // Keep the id a while, as BullMQ does, so an immediate re-add is still a no-op.
        setTimeout(() => jobs.delete(job.id), 60_000).unref?.();
      })
      .catch((err: unknown) => {
        if (err instanceof PermanentJobError || job.attempt >= policy.attempts) {
          job.state = 'failed';
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
      const def = QUEUES[name];
      const parsed = def.schema.parse(data);
      const id = (def.jobId as (d: typeof parsed) => string)(parsed);
      const existing = jobs.get(id);
      // Same rule as BullMQ: a finished job is replaced, a waiting or active one dedupes.
      if (existing && existing.state !== 'failed' && existing.state !== 'completed') return;
      const job: Job = { id, name, data: parsed, attempt: 0, state: 'waiting' };
      jobs.set(id, job);
      schedule(job, options?.delayMs ?? 0);
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
