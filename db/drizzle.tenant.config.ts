import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/src/schema/template.ts',
  out: './db/migrations/tenant',
  schemaFilter: ['tenant_template'],
});
