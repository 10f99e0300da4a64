// `npm run db:migrate`: the registry, then every tenant schema. Idempotent.
import { ConfigError, loadConfig } from '@comms/core/platform';
import { migrateDatabase } from '@comms/core/tenancy';

try {
  const result = await migrateDatabase(loadConfig(process.env));
  console.log(`registry (${result.kind}): ${result.registry.length ? result.registry.join(', ') : 'up to date'}`);
  for (const { schema, applied } of result.tenants) {
    console.log(`${schema}: ${applied.length ? applied.join(', ') : 'up to date'}`);
  }
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
