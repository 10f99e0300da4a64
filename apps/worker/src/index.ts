export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { sendersFor, type Sender } from './senders.js';
export type { SandboxOptions } from './sandbox.js';
export { DEFAULT_RATES } from './rate-limit.js';
