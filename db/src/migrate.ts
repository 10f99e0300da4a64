/**
 * Applies the SQL migrations drizzle-kit generated: the registry's to `public`, the
 * tenant ones to each tenant schema (rewritten from the placeholder schema). Each
 * schema records what it has, so running again applies nothing twice.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { type Db, type Executor, rawRows } from './connection.js';
import { TEMPLATE_SCHEMA } from './schema/tenant.js';

interface Migration {
  name: string;
  statements: string[];
}

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);

function loadMigrations(kind: 'registry' | 'tenant'): Migration[] {
  const dir = new URL(`${kind}/`, MIGRATIONS_DIR);
  const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', dir), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  return journal.entries
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => ({
      name: tag,
      statements: readFileSync(new URL(`${tag}.sql`, dir), 'utf8')
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    }));
}

let cached: { registry: Migration[]; tenant: Migration[] } | undefined;
function migrations() {
  cached ??= { registry: loadMigrations('registry'), tenant: loadMigrations('tenant') };
  return cached;
}

/** Names of the tenant migrations, oldest first. */
export function tenantMigrationNames(): string[] {
  return migrations().tenant.map((m) => m.name);
}

// Serializes migrators across processes: two instances starting together must not race.
const MIGRATION_LOCK = 726_351_001;

/** Brings the registry (`public.tenants`) to the latest version. Idempotent. */
export async function migrateRegistry(db: Db): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(
      sql`create table if not exists public.registry_migrations (name text primary key, applied_at timestamptz not null default now())`,
    );
    const done = new Set(
      (await rawRows<{ name: string }>(tx, sql`select name from public.registry_migrations`)).map((r) => r.name),
    );
    const applied: string[] = [];
    for (const m of migrations().registry) {
      if (done.has(m.name)) continue;
      for (const statement of m.statements) {
        if (/^CREATE SCHEMA\b/i.test(statement)) continue;
        await tx.execute(sql.raw(statement));
      }
      await tx.execute(sql`insert into public.registry_migrations (name) values (${m.name})`);
      applied.push(m.name);
    }
    return applied;
  });
}

/**
 * Creates the tenant schema if needed and applies its missing migrations, inside the
 * caller's transaction. `schemaName` must already be validated (see tenants.ts).
 */
export async function migrateTenantSchema(tx: Executor, schemaName: string): Promise<string[]> {
  const quoted = `"${schemaName}"`;
  await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK}, hashtext(${schemaName}))`);
  await tx.execute(sql.raw(`create schema if not exists ${quoted}`));
  await tx.execute(
    sql.raw(
      `create table if not exists ${quoted}.schema_migrations (name text primary key, applied_at timestamptz not null default now())`,
    ),
  );
  const done = new Set(
    (await rawRows<{ name: string }>(tx, sql.raw(`select name from ${quoted}.schema_migrations`))).map((r) => r.name),
  );
  const applied: string[] = [];
  for (const m of migrations().tenant) {
    if (done.has(m.name)) continue;
    for (const statement of m.statements) {
      if (/^CREATE SCHEMA\b/i.test(statement)) continue;
      await tx.execute(sql.raw(statement.replaceAll(`"${TEMPLATE_SCHEMA}"`, quoted)));
    }
    await tx.execute(
      sql.raw(`insert into ${quoted}.schema_migrations (name) values ('${m.name.replace(/'/g, "''")}')`),
    );
    applied.push(m.name);
  }
  return applied;
}
