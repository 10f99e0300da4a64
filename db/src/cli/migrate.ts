// `npm run db:migrate`: the registry, then every tenant schema. Idempotent.
import { openDatabase } from '../client.js';
import { migrateRegistry } from '../migrate.js';
import { migrateAllTenants } from '../tenants.js';

const url = process.env.DATABASE_URL;
const database = await openDatabase({ url, dataDir: process.env.PGLITE_DIR ?? './.data/pglite' });
try {
  const registry = await migrateRegistry(database.db);
  console.log(`registry (${database.kind}): ${registry.length ? registry.join(', ') : 'up to date'}`);
  for (const { schema, applied } of await migrateAllTenants(database.db)) {
    console.log(`${schema}: ${applied.length ? applied.join(', ') : 'up to date'}`);
  }
} finally {
  await database.close();
}
