/** HTTP plumbing every app serves with: the Node server, request ids and logs and metrics, 405s. */
export * from './body.js';
export * from './methods.js';
export * from './observe.js';
export * from './server.js';
export * from './security.js';
