export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { type Sender, type Senders, sendersFor } from './senders.js';
export type { SandboxOptions } from './sandbox.js';
export { DEFAULT_RATES } from './rate-limit.js';
export { mediaSourcesFor, type MediaSource } from './media-sources.js';
