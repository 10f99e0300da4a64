/** The registry of tenants, in `public`: one row per agency, naming the schema that holds its data. */
import { sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const tenants = pgTable(
  'tenants',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    slug: text('slug').notNull(),
    schemaName: text('schema_name').notNull(),
    name: text('name').notNull(),
    /** `active`, or `deleted` (no longer served; the schema stays until a purge). */
    status: text('status').notNull().default('active'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [uniqueIndex('tenants_slug_key').on(t.slug), uniqueIndex('tenants_schema_name_key').on(t.schemaName)],
);

export const registryMigrations = pgTable('registry_migrations', {
  name: text('name').primaryKey(),
  appliedAt: ts('applied_at').notNull().default(sql`now()`),
});
