/** Provisioning and removal of tenants (platform operations). */
import {
  createTenant,
  findTenant,
  isValidSlug,
  listTenants,
  markTenantDeleted,
  migrateAllTenants,
  migrateRegistry,
  openDatabase,
  purgeTenant,
  restoreTenant as restoreTenantRow,
  type TenantRow,
} from '@comms/db';
import type { Config } from '../platform/config.js';
import { AppError } from '../platform/errors.js';
import type { Runtime } from '../platform/runtime.js';
import { type Tenant, toTenant } from '../platform/tenants.js';

export function tenantView(row: TenantRow) {
  return {
    slug: row.slug,
    schema: row.schemaName,
    name: row.name,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    deleted_at: row.deletedAt ? row.deletedAt.toISOString() : null,
  };
}
export type TenantView = ReturnType<typeof tenantView>;

function checkSlug(slug: string): void {
  if (!isValidSlug(slug))
    throw new AppError('bad_request', 'slug must match ^[a-z0-9][a-z0-9-]{1,40}$', {
      errors: [
        { field: 'slug', message: 'lower-case letters, digits and dashes; 2 to 41 characters; no leading dash' },
      ],
    });
}

/** Creates the schema and applies every migration in one transaction; 409 if the slug exists. */
export async function provisionTenant(runtime: Runtime, input: { slug: string; name: string }): Promise<TenantView> {
  checkSlug(input.slug);
  const result = await createTenant(runtime.database.db, input);
  if (!result.created) {
    const existing = await findTenant(runtime.database.db, input.slug);
    if (existing?.status === 'deleted')
      throw new AppError(
        'conflict',
        `tenant '${input.slug}' was deleted${existing.deletedAt ? ` on ${existing.deletedAt.toISOString()}` : ''} and its data is kept: ` +
          `restore it with POST /api/v1/tenants/${input.slug}/restore, or drop it for good with ` +
          `DELETE /api/v1/tenants/${input.slug}?purge=true and create it again`,
      );
    throw new AppError('conflict', `tenant '${input.slug}' already exists`);
  }
  runtime.tenants.invalidate(input.slug);
  return tenantView(result.tenant);
}

/** Serves a deleted tenant again, with the data it had; 404 unless it is deleted (and not purged). */
export async function restoreTenant(runtime: Runtime, slug: string): Promise<TenantView> {
  const row = isValidSlug(slug) ? await restoreTenantRow(runtime.database.db, slug) : undefined;
  if (!row) throw new AppError('not_found', `no deleted tenant '${slug.slice(0, 50)}' to restore`);
  runtime.tenants.invalidate(slug);
  return tenantView(row);
}

export async function getTenant(runtime: Runtime, slug: string): Promise<TenantView> {
  const row = isValidSlug(slug) ? await findTenant(runtime.database.db, slug) : undefined;
  if (!row) throw new AppError('not_found', `tenant '${slug.slice(0, 50)}' not found`);
  return tenantView(row);
}

/** Stops serving the tenant; with `purge` its schema and data are dropped too. */
export async function deleteTenant(runtime: Runtime, slug: string, purge: boolean): Promise<void> {
  if (!isValidSlug(slug)) throw new AppError('not_found', `tenant '${slug.slice(0, 50)}' not found`);
  const db = runtime.database.db;
  const done = purge ? await purgeTenant(db, slug) : Boolean(await markTenantDeleted(db, slug));
  runtime.tenants.invalidate(slug);
  if (!done) throw new AppError('not_found', `tenant '${slug}' not found`);
}

/** Brings every tenant schema to the latest migration (the registry is migrated by createRuntime). */
export async function migrateTenants(runtime: Runtime): Promise<{ schema: string; applied: string[] }[]> {
  return migrateAllTenants(runtime.database.db);
}

/** Opens the configured database, migrates the registry and every tenant schema, and closes it again. */
export async function migrateDatabase(
  config: Config,
): Promise<{ kind: string; registry: string[]; tenants: { schema: string; applied: string[] }[] }> {
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.PGLITE_DIR });
  try {
    const registry = await migrateRegistry(database.db);
    return { kind: database.kind, registry, tenants: await migrateAllTenants(database.db) };
  } finally {
    await database.close();
  }
}

/** Creates the tenant unless it exists; true when it was created. */
export async function ensureTenant(runtime: Runtime, input: { slug: string; name: string }): Promise<boolean> {
  if (await findTenant(runtime.database.db, input.slug)) return false;
  checkSlug(input.slug);
  const result = await createTenant(runtime.database.db, input);
  runtime.tenants.invalidate(input.slug);
  return result.created;
}

/** The tenants being served, for jobs that visit each (the pending sweeper). */
export async function listActiveTenants(runtime: Runtime): Promise<Tenant[]> {
  return (await listTenants(runtime.database.db, { status: 'active' })).map(toTenant);
}
