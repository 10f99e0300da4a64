export * from './client.js';
export * from './migrate.js';
export * from './tenants.js';
export { tenants } from './schema/registry.js';
export { tenantTables, TEMPLATE_SCHEMA, type TenantTables } from './schema/tenant.js';
