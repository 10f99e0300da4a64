/**
 * What the inbox API files share: the API on the real PostgreSQL, a tenant `t` with an agent (a tenant user) and a pg
 * client. Call `useInboxApi()` at the top of a test file: the bindings below are set before its tests run, and
 * everything stops after them.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { connectTestDb } from './env.js';
import { api, type Harness, startApi } from './harness.js';
import { schemaOf } from './wait.js';

export let h: Harness;
export let db: pg.Client;
/** The file's tenant. */
export let t: string;
/** A tenant user's token for `t`, whose user id is `agentId`. */
export let agent: string;
export const agentId = randomUUID();

export function useInboxApi(): void {
  beforeAll(async () => {
    h = await startApi();
    db = await connectTestDb();
    t = await h.createTenant('inbox');
    agent = await h.token({ tenant: t, role: 'tenant_user', sub: agentId });
  });
  afterAll(async () => {
    await db.end();
    await h.close();
  });
}

/** Creates a conversation in `t` as the agent (an SMS contact by default) and returns it. */
export async function newConversation(body: Record<string, unknown> = {}) {
  const res = await h.request('POST', api(t, '/conversations'), {
    token: agent,
    body: {
      channel: 'sms',
      contact_identifier: `+1555${Math.floor(Math.random() * 1e7)}`,
      contact_name: 'Ana Lima',
      ...body,
    },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Simulates the customer's last inbound message (what the gateway will record). */
export async function customerWroteAt(id: number, at: Date) {
  await db.query(`update "${schemaOf(t)}".inbox_conversations set last_inbound_at = $1 where id = $2`, [at, id]);
}
