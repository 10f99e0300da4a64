// `npm run db:migrate`: the registry, then every tenant schema. Idempotent.
import { migrateAllTenants, migrateRegistry, openDatabase } from '@comms/db';
import { ConfigError, loadConfig } from '../config.js';

try {
  const config = loadConfig(process.env);
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.PGLITE_DIR });
  try {
    const registry = await migrateRegistry(database.db);
    console.log(`registry (${database.kind}): ${registry.length ? registry.join(', ') : 'up to date'}`);
    for (const { schema, applied } of await migrateAllTenants(database.db)) {
      console.log(`${schema}: ${applied.length ? applied.join(', ') : 'up to date'}`);
    }
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
