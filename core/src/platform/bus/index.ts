/** The event bus: its contract, the in-process bus of the embedded mode, and the Redis bus. */
export * from './contract.js';
export { createInProcessBus } from './in-process.js';
export { createRedisBus, type RedisBusOptions } from './redis.js';
