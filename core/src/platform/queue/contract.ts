/**
 * Job queues behind one interface: BullMQ on Redis in production, an in-process queue in
 * the embedded mode. Processors are the same functions either way.
 */
import type { JobData, QueueName } from './definitions.js';

/** Thrown by a processor for a job that must not be retried. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobInfo {
  id: string;
  attempt: number;
  /** True on the last attempt the policy allows. */
  isLastAttempt: boolean;
}

export type Processor<N extends QueueName> = (data: JobData<N>, job: JobInfo) => Promise<void>;

export interface Queues {
  readonly kind: 'bullmq' | 'in-process';
  /** Enqueues once per job id: adding the same job twice does nothing. Throws if the queue is unreachable. */
  add<N extends QueueName>(name: N, data: JobData<N>, options?: { delayMs?: number }): Promise<void>;
  /** Starts consuming a queue in this process. */
  process<N extends QueueName>(name: N, processor: Processor<N>): void;
  /** Jobs waiting, delayed and active, per queue (for /metrics). */
  counts(): Promise<Record<QueueName, { waiting: number; active: number; delayed: number; failed: number }>>;
  ping(): Promise<void>;
  /** Stops consuming: waits for the jobs in hand, then closes connections. */
  close(): Promise<void>;
}
