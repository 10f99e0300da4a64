/** The registry of tenants, in `public`: one row per agency, naming the schema that holds its data. */
import { integer, jsonb, PgSchema, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

// `public`, named explicitly so no query depends on search_path (pgSchema() refuses the name; the class does not).
export const publicSchema = new PgSchema('public');

// Millisecond precision: what a JS Date holds, so keyset cursors round-trip exactly.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const tenants = publicSchema.table(
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
