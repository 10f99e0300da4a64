/** The tenant registry and each tenant's schema: provisioning, lookup, deletion, migration. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Executor } from './connection.js';
import { migrateTenantSchema } from './migrate.js';
import { tenants } from './schema/registry.js';

export type TenantRow = typeof tenants.$inferSelect;

/** DESIGN §4: what a tenant slug may be. Checked before any SQL sees it. */
export const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{1,40}$/;

export function isValidSlug(slug: string): boolean {
  return TENANT_SLUG.test(slug);
}

/** `acme-travel` → `tenant_acme_travel`. Only for valid slugs. */
export function schemaNameFor(slug: string): string {
  if (!isValidSlug(slug)) throw new Error(`invalid tenant slug`);
  return `tenant_${slug.replaceAll('-', '_')}`;
}

export type CreateTenantResult = { created: true; tenant: TenantRow } | { created: false; reason: 'exists' };

/** Registers the tenant, creates its schema and applies every migration, all in one transaction. */
export async function createTenant(
  db: Db,
  input: { slug: string; name: string; settings?: Record<string, unknown> },
): Promise<CreateTenantResult> {
  const schemaName = schemaNameFor(input.slug);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(tenants)
      .values({ slug: input.slug, schemaName, name: input.name, settings: input.settings ?? {} })
      .onConflictDoNothing()
      .returning();
    if (!row) return { created: false, reason: 'exists' } as const;
    await migrateTenantSchema(tx, schemaName);
    return { created: true, tenant: row } as const;
  });
}

export async function findTenant(db: Executor, slug: string): Promise<TenantRow | undefined> {
  if (!isValidSlug(slug)) return undefined;
  const [row] = await db.select().from(tenants).where(eq(tenants.slug, slug)).limit(1);
  return row;
}

export async function listTenants(db: Executor, options: { status?: string } = {}): Promise<TenantRow[]> {
  return db
    .select()
    .from(tenants)
    .where(options.status ? eq(tenants.status, options.status) : undefined)
    .orderBy(asc(tenants.id));
}

/** Stops serving the tenant; its data stays. */
export async function markTenantDeleted(db: Executor, slug: string): Promise<TenantRow | undefined> {
  const [row] = await db
    .update(tenants)
    .set({ status: 'deleted', deletedAt: new Date(), updatedAt: new Date() })
    .where(and(eq(tenants.slug, slug), eq(tenants.status, 'active')))
    .returning();
  return row;
}

/** Serves a deleted tenant again, its data as it was left. */
export async function restoreTenant(db: Executor, slug: string): Promise<TenantRow | undefined> {
  const [row] = await db
    .update(tenants)
    .set({ status: 'active', deletedAt: null, updatedAt: new Date() })
    .where(and(eq(tenants.slug, slug), eq(tenants.status, 'deleted')))
    .returning();
  return row;
}

/** Drops the tenant's schema and its registry row. Irreversible. */
export async function purgeTenant(db: Db, slug: string): Promise<boolean> {
  const schemaName = schemaNameFor(slug);
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(tenants).where(eq(tenants.slug, slug)).returning();
    if (!row) return false;
    await tx.execute(sql.raw(`drop schema if exists "${schemaName}" cascade`));
    return true;
  });
}

export async function updateTenantSettings(
  db: Executor,
  slug: string,
  settings: Record<string, unknown>,
): Promise<TenantRow | undefined> {
  const [row] = await db
    .update(tenants)
    .set({ settings, updatedAt: new Date() })
    .where(eq(tenants.slug, slug))
    .returning();
  return row;
}

/** Migrates every tenant schema (deleted ones too: their data is kept, so it stays current). */
export async function migrateAllTenants(db: Db): Promise<{ schema: string; applied: string[] }[]> {
  const results: { schema: string; applied: string[] }[] = [];
  for (const tenant of await listTenants(db)) {
    const applied = await db.transaction((tx) => migrateTenantSchema(tx, tenant.schemaName));
    results.push({ schema: tenant.schemaName, applied });
  }
  return results;
}
