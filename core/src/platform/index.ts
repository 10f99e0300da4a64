/** Plumbing every app needs: config, logs, errors, auth, the runtime, queues, the event bus, presence, secrets. */
export * from './auth.js';
export * from './auth-failures.js';
export * from './batch.js';
export * from './bus/index.js';
export * from './config.js';
export * from './context.js';
export * from './errors.js';
export * from './json-depth.js';
export * from './logger.js';
export * from './pagination.js';
export * from './presence.js';
export * from './problem.js';
export * from './process.js';
export * from './queue/index.js';
export * from './runtime.js';
export * from './secrets.js';
export * from './tenants.js';
