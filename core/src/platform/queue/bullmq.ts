/** The production queue: BullMQ on Redis. One Queue (producer) and, where processed, one Worker per queue name. */
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import { backoffDelay, dedupeKeyOf, type JobData, QUEUES, type QueueName } from './definitions.js';
import { PermanentJobError, type Processor, type Queues } from './contract.js';

export const QUEUE_PREFIX = 'comms';
const ADD_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  p.catch(() => {}); // a late rejection after the timeout must not go unhandled
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createBullQueues(redisUrl: string, log: Logger, options: { prefix?: string } = {}): Queues {
  const prefix = options.prefix ?? QUEUE_PREFIX;
  // The producer fails fast while Redis is away, so the API can answer and leave the job to the sweeper.
  const producerOptions: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const producer = new Redis(redisUrl, producerOptions);
  producer.on('error', (err) => log.debug({ err: err.message }, 'redis (queue producer) error'));
  const queues = new Map<QueueName, Queue>();
  const workers: Worker[] = [];

  const queue = (name: QueueName): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: producer, prefix });
      q.on('error', (err) => log.debug({ queue: name, err: err.message }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  };

  const addJob = async <N extends QueueName>(name: N, data: JobData<N>, options?: { delayMs?: number }) => {
    const def = QUEUES[name];
    const parsed = def.schema.parse(data);
    const q = queue(name);
    const common = {
      attempts: def.policy.attempts,
      backoff: { type: 'custom' },
      delay: options?.delayMs ?? 0,
      removeOnComplete: { count: def.policy.keepCompleted },
      removeOnFail: { count: def.policy.keepFailed },
    };
    const dedupe = dedupeKeyOf(name, parsed as JobData<N>);
    if (dedupe) {
      // BullMQ's own deduplication: ignored while one with the key waits; kept as the next one while one is active.
      await q.add(name, parsed, { ...common, deduplication: { id: dedupe, keepLastIfActive: true } });
      return;
    }
    const jobId = (def.jobId as (d: typeof parsed) => string)(parsed);
    // A finished job keeps its id for a while. Adding again means the work is wanted again (a retry through
    // POST /messages/{id}/retry, the sweeper, a tenant re-created under the same slug whose ids start over),
    // so a finished job is replaced; a waiting or active one is left alone, which is what dedupes.
    // Processors are idempotent (a sent message is never sent twice), so a replaced job costs at most a no-op.
    const existing = await q.getJob(jobId);
    if (existing && ((await existing.isFailed()) || (await existing.isCompleted()))) await existing.remove();
    await q.add(name, parsed, { ...common, jobId });
  };

  return {
    kind: 'bullmq',
    async add(name, data, options) {
      // BullMQ waits for a ready connection; while Redis is away that wait never ends, so bound it.
      await withTimeout(addJob(name, data, options), ADD_TIMEOUT_MS, `queue ${name} unavailable`);
    },
    process(name, processor) {
      const def = QUEUES[name];
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', (err) => log.debug({ err: err.message }, 'redis (worker) error'));
      const worker = new Worker(
        name,
        async (job) => {
          const parsed = def.schema.safeParse(job.data);
          if (!parsed.success) throw new UnrecoverableError(`malformed ${name} job: ${parsed.error.message}`);
          const attempt = job.attemptsMade + 1;
          try {
            await (processor as unknown as Processor<QueueName>)(parsed.data as JobData<QueueName>, {
              id: job.id ?? '',
              attempt,
              isLastAttempt: attempt >= (job.opts.attempts ?? 1),
            });
          } catch (err) {
            if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
            throw err;
          }
        },
        {
          connection,
          prefix,
          concurrency: def.policy.concurrency,
          settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(def.policy.backoffMs, attemptsMade) },
        },
      );
      worker.on('error', (err) => log.debug({ queue: name, err: err.message }, 'worker error'));
      worker.on('failed', (job, err) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
          log.warn({ queue: name, job_id: job.id, err: err.message }, 'job failed');
      });
      workers.push(worker);
    },
    async counts() {
      const read = async () => {
        const out = {} as Awaited<ReturnType<Queues['counts']>>;
        for (const name of Object.keys(QUEUES) as QueueName[]) {
          const c = await queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
          out[name] = {
            waiting: c.waiting ?? 0,
            active: c.active ?? 0,
            delayed: c.delayed ?? 0,
            failed: c.failed ?? 0,
          };
        }
        return out;
      };
      return withTimeout(read(), ADD_TIMEOUT_MS, 'redis unavailable');
    },
    async ping() {
      await withTimeout(producer.ping(), ADD_TIMEOUT_MS, 'redis unavailable');
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      producer.disconnect();
    },
  };
}

/** The BullMQ Queue objects, for Bull Board. */
export function bullQueuesForBoard(redisUrl: string, prefix = QUEUE_PREFIX): Queue[] {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => {});
  return (Object.keys(QUEUES) as QueueName[]).map((name) => new Queue(name, { connection, prefix }));
}
