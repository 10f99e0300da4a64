/** Resolves the tenant slug of a URL into its registry row and schema-bound tables. */
import { findTenant, isValidSlug, type Db, type TenantRow, type TenantTables, tenantTables } from '@comms/db';
import { AppError } from './errors.js';

export interface Tenant {
  slug: string;
  schemaName: string;
  name: string;
  settings: Record<string, unknown>;
  tables: TenantTables;
}

export interface TenantResolver {
  /** The active tenant, or AppError not_found (also for malformed slugs, before any SQL). */
  resolve(slug: string): Promise<Tenant>;
  /** Forget a cached tenant after it changed (deleted, settings updated). */
  invalidate(slug: string): void;
}

export function toTenant(row: TenantRow): Tenant {
  return {
    slug: row.slug,
    schemaName: row.schemaName,
    name: row.name,
    settings: row.settings,
    tables: tenantTables(row.schemaName),
  };
}

/**
 * Caches lookups for a few seconds: every request resolves its tenant, and the registry
 * changes rarely. A deletion on another instance takes effect within `ttlMs`.
 */
export function createTenantResolver(db: Db, options: { ttlMs?: number } = {}): TenantResolver {
  const ttlMs = options.ttlMs ?? 5_000;
  const cache = new Map<string, { tenant: Tenant | null; expires: number }>();
  return {
    async resolve(slug) {
      if (!isValidSlug(slug)) throw new AppError('not_found', `tenant '${slug.slice(0, 50)}' not found`);
      const now = Date.now();
      const hit = cache.get(slug);
      let tenant: Tenant | null;
      if (hit && hit.expires > now) {
        tenant = hit.tenant;
      } else {
        const row = await findTenant(db, slug);
        tenant = row && row.status === 'active' ? toTenant(row) : null;
        cache.set(slug, { tenant, expires: now + ttlMs });
      }
      if (!tenant) throw new AppError('not_found', `tenant '${slug}' not found`);
      return tenant;
    },
    invalidate(slug) {
      cache.delete(slug);
    },
  };
}
