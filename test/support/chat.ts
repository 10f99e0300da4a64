/**
 * What the chat files share: the API on the real PostgreSQL, a tenant `t` with six users (`boss` a tenant admin, the
 * others tenant users) and an `outsider` (a tenant admin of another tenant), a pg client, and the moves the tests
 * make as those users. Call `useChatApi()` at the top of a test file: the bindings below are set before its tests
 * run, and everything stops after them.
 */
import { randomUUID } from 'node:crypto';
import type { PublishedEvent } from '@comms/core/platform';
import type pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { connectTestDb } from './env.js';
import { api, type Harness, startApi, tokensFor } from './harness.js';
import { schemaOf } from './wait.js';

export let h: Harness;
/** The file's tenant, and its schema. */
export let t: string;
export let schema: string;
export let db: pg.Client;
export const users = {
  ana: randomUUID(),
  mod: randomUUID(),
  bob: randomUUID(),
  cid: randomUUID(),
  eve: randomUUID(),
  boss: randomUUID(),
};
export type Who = keyof typeof users | 'outsider';
export const tok = {} as Record<Who, string>;

export function useChatApi(): void {
  beforeAll(async () => {
    h = await startApi();
    t = await h.createTenant('chat');
    schema = schemaOf(t);
    Object.assign(tok, await tokensFor(h, t, users, (name) => (name === 'boss' ? 'tenant_admin' : 'tenant_user')));
    tok.outsider = await h.token({ tenant: await h.createTenant('chat-other'), role: 'tenant_admin' });
    db = await connectTestDb();
  });
  afterAll(async () => {
    await db?.end();
    await h?.close();
  });
}

/** A request as one of the users (by name), or with any token. */
export const call = (who: Who | string, method: string, path: string, body?: unknown) =>
  h.request(method, api(t, path), { token: tok[who as Who] ?? who, body });
export const as = (who: Who | string) => ({
  post: (path: string, body: unknown = {}) => call(who, 'POST', path, body),
  get: (path: string) => call(who, 'GET', path),
  put: (path: string, body: unknown) => call(who, 'PUT', path, body),
  del: (path: string) => call(who, 'DELETE', path),
});

/** How many names `unique` has handed out in this file. */
export let seq = 0;
/** `name` and a number of its own, so each test's channels have slugs of their own. */
export const unique = (name: string) => `${name} ${++seq}`;

/** A channel with ana as admin, mod as moderator and bob as member. */
export async function team(type: 'public' | 'private' = 'public', extra: Record<string, unknown> = {}) {
  const ch = await as('ana').post('/channels', { name: unique(`Team ${type}`), type, ...extra });
  expect(ch.status).toBe(201);
  const id = ch.body.id as number;
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.mod, role: 'moderator' })).status).toBe(201);
  expect((await as('ana').post(`/channels/${id}/members`, { user_id: users.bob })).status).toBe(201);
  return id;
}

/** Posts a message as `who` (expecting 201) and returns the entry. */
export const send = async (who: Who, channel: number, content: string, extra: Record<string, unknown> = {}) => {
  const res = await as(who).post(`/chat/channels/${channel}/messages`, { content, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; [k: string]: unknown };
};

/** One entry as `who` reads it in the channel. */
export const entry = async (who: Who, channel: number, id: number) =>
  (await as(who).get(`/chat/channels/${channel}/messages?around=${id}&limit=1`)).body.data[0];

/** Opens n connections first, so concurrent requests reach the server together instead of as connections open. */
export const warm = (n: number) => Promise.all(Array.from({ length: n }, () => h.request('GET', '/health')));

/** Records the tenant's events from the bus until `off()`. */
export function recordEvents() {
  const events: PublishedEvent[] = [];
  const off = h.runtime.bus.subscribe((e) => {
    if (e.tenant === t) events.push(e);
  });
  return { events, off, of: (type: string) => events.filter((e) => e.type === type) };
}

/** Waits until `fn` holds, at most `ms`. */
export async function until(fn: () => boolean, ms = 3_000) {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** The ids of a list response. */
export const ids = (res: { body: { data: { id: number }[] } }) => res.body.data.map((x) => x.id);
