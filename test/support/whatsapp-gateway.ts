/**
 * What the WhatsApp gateway files share: the whole service on Redis with a worker, a pg client, and a tenant with a
 * WhatsApp account to post signed webhooks to. Call `useWhatsAppGateway()` at the top of a test file: the bindings
 * below are set before its tests run, and everything stops after them.
 */
import { signedMetaWebhook } from '@comms/adapter-whatsapp/testing';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { connectTestDb } from './env.js';
import { createAccount, type Stack, startStack } from './stack.js';
import { schemaOf } from './wait.js';

export const APP_SECRET = 'wa-app-secret-for-tests';
export const PHONE_ID = '106540352242922';

export let h: Stack;
export let db: pg.Client;

export function useWhatsAppGateway(): void {
  beforeAll(async () => {
    h = await startStack({ redis: true, worker: true });
    db = await connectTestDb();
  });
  afterAll(async () => {
    await db.end();
    await h.close();
  });
}

/**
 * POSTs a WhatsApp webhook signed with `secret`; `signature` replaces the X-Hub-Signature-256 header (null: none).
 */
export async function post(tenant: string, payload: unknown, secret = APP_SECRET, signature?: string | null) {
  const { body, headers } = signedMetaWebhook(payload, secret);
  if (signature !== undefined) delete headers['x-hub-signature-256'];
  if (signature) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/** A fresh tenant with a WhatsApp account for PHONE_ID (verify token `verify-me`); returns its slug. */
export async function setup() {
  const tenant = await h.createTenant('wa');
  await createAccount(h, tenant, {
    provider: 'whatsapp',
    identifier: PHONE_ID,
    credentials: { app_secret: APP_SECRET, access_token: 'EAAG-test', verify_token: 'verify-me' },
  });
  return tenant;
}

/** The number of rows in one of the tenant's tables. */
export const count = async (tenant: string, table: string) =>
  (await db.query(`select count(*)::int as n from "${schemaOf(tenant)}".${table}`)).rows[0].n as number;
