/** Realtime delivery over one connection per client (DESIGN §10): frames, who receives what, the hub. */
export * from './delivery.js';
export * from './frames.js';
export * from './hub.js';
