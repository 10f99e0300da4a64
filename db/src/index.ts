export * from './connection.js';
export { ShapeCache, type SqlSource } from './prepared.js';
export * from './select-json.js';
export * from './migrate.js';
export * from './tenants.js';
export { tenants } from './schema/registry.js';
export { tenantTables, TEMPLATE_SCHEMA, type TenantTables } from './schema/tenant.js';
/** The query operators, from the one copy of drizzle-orm the schema was built with. */
export { QueryBuilder } from 'drizzle-orm/pg-core';
export { and, asc, desc, eq, gt, gte, ilike, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
