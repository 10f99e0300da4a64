/** What every chaos scenario starts from: a throwaway PostgreSQL of its own with one provisioned tenant. */
import { createTenant, migrateRegistry, openDatabase } from '@comms/db';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@comms/test/throwaway';
import pg from 'pg';

/** A throwaway PostgreSQL (so restarting it disturbs nobody) with database `comms_chaos` and tenant `slug`. */
export async function chaosDatabase(slug: string, name: string): Promise<ThrowawayPostgres> {
  const postgres = await startThrowawayPostgres('comms_chaos');
  const admin = new pg.Client({ connectionString: postgres.url.replace(/\/comms_chaos$/, '/postgres') });
  await admin.connect();
  await admin.query('create database comms_chaos');
  await admin.end();
  const database = await openDatabase({ url: postgres.url });
  await migrateRegistry(database.db);
  await createTenant(database.db, { slug, name });
  await database.close();
  return postgres;
}
