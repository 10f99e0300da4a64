/** The media store (issue 14): backends, limits, the tenant's media rows. */
export * from './file-service.js';
export * from './links.js';
export * from './local.js';
export * from './policy.js';
export * from './service.js';
export * from './store.js';
