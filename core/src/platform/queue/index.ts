/** Job queues: the contract, the queues' definitions, the in-process queue and BullMQ. */
export * from './contract.js';
export * from './definitions.js';
export { createInProcessQueues } from './in-process.js';
export { bullQueuesForBoard, createBullQueues, QUEUE_PREFIX } from './bullmq.js';
