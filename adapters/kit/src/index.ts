/**
 * The adapter contract: what every provider package turns a webhook into, and what it needs to send a
 * reply. Pure types, schemas and functions: no I/O, no database, no HTTP client (those live in the
 * provider packages and in @comms/adapter-meta-graph).
 */
export * from './accounts.js';
export * from './bounds.js';
export * from './events.js';
export * from './inbound.js';
export * from './json.js';
export * from './media.js';
export * from './outbound.js';
export * from './wire.js';
