/** Tenant administration: provisioning, lookup for operators, removal. Resolution per request is platform's. */
export * from './admin.js';
