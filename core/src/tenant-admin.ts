/** Provisioning and removal of tenants (platform operations). */
import { createTenant, findTenant, isValidSlug, markTenantDeleted, purgeTenant, type TenantRow } from '@comms/db';
import { AppError } from './errors.js';
import type { Runtime } from './runtime.js';

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
  if (!result.created) throw new AppError('conflict', `tenant '${input.slug}' already exists`);
  runtime.tenants.invalidate(input.slug);
  return tenantView(result.tenant);
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
