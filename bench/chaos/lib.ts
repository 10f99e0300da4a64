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

/** Creates the WhatsApp account the scenario's webhooks name, through the API as a tenant admin would. */
export async function createWhatsAppAccount(
  apiUrl: string,
  slug: string,
  token: string,
  account: { phoneNumberId: string; appSecret: string },
): Promise<void> {
  const created = await fetch(`${apiUrl}/api/v1/tenants/${slug}/communications/channel-accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'whatsapp',
      name: 'Chaos',
      identifier: account.phoneNumberId,
      credentials: { app_secret: account.appSecret, access_token: 'x' },
    }),
  });
  if (created.status !== 201) throw new Error(`account: ${created.status} ${await created.text()}`);
}
