// `npm run db:migrate`: the registry, then every tenant schema. Idempotent.
import { ConfigError, loadConfig } from '@comms/core/platform';
import { migrateDatabase } from '@comms/core/tenancy';
import { commandLine } from './cli.js';

commandLine(
  `usage: npm run db:migrate

Brings the registry and every tenant schema up to the latest migration (DATABASE_URL, else the embedded database
under PGLITE_DIR). Idempotent: run it on every upgrade, before the start:* commands.

options:
  -h, --help   this text`,
  {},
);

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
