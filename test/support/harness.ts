/**
 * Starts the real apps on loopback ports against the real PostgreSQL (and, when asked,
 * Redis), and gives tests a client that speaks HTTP to them.
 */
import { randomUUID } from 'node:crypto';
import {
  attachRealtime,
  createApiApp,
  type FetchHandler,
  listen,
  type RealtimeHub,
  type RunningServer,
} from '@comms/api';
import {
  type Config,
  createRuntime,
  loadConfig,
  type Runtime,
  type RuntimeOverrides,
  signToken,
} from '@comms/core/platform';
import { serverLimits } from '@comms/core/http';
import WebSocket from 'ws';
import { TEST_JWT_SECRET, testDatabaseUrl, testRedisUrl, uniqueSlug } from './env.js';
import { rememberSecrets, testLogger } from './log-capture.js';

export { TEST_JWT_SECRET };

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    // Tests never call a real provider: unless a test stands up a fake, sends are refused on loopback.
    WHATSAPP_API_URL: 'http://127.0.0.1:1',
    MESSENGER_API_URL: 'http://127.0.0.1:1',
    TWILIO_API_URL: 'http://127.0.0.1:1',
    SENDGRID_API_URL: 'http://127.0.0.1:1',
    SES_API_URL: 'http://127.0.0.1:1',
    S3_API_URL: 'http://127.0.0.1:1',
    ...env,
  });
}

export interface Harness {
  runtime: Runtime;
  server: RunningServer;
  url: string;
  /** A service token: may act on any tenant. */
  serviceToken: string;
  token(claims: {
    tenant: string;
    role?: 'tenant_admin' | 'tenant_user' | 'super_admin';
    sub?: string;
  }): Promise<string>;
  /** Provisions a fresh tenant through the API and returns its slug. */
  createTenant(prefix?: string): Promise<string>;
  request(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  /** The WebSocket endpoint attached to the server (null with `realtime: false`). */
  realtime: RealtimeHub | null;
  /** Opens the tenant's WebSocket; rejects with a `WsRefused` (its HTTP status) when the upgrade is refused. */
  ws(tenant: string, token: string | null, options?: WsOptions): Promise<WsClient>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  redis?: boolean;
  overrides?: RuntimeOverrides;
  /** Serve more than the API on the same port (the gateway, say): given the API's fetch, return the server's. */
  compose?: (runtime: Runtime, apiFetch: FetchHandler) => FetchHandler;
  /** Runs after the runtime exists (start a worker, say); its close runs before the runtime closes. */
  attach?: (runtime: Runtime) => { close(): Promise<void> } | Promise<{ close(): Promise<void> }>;
  /** Log one line per request (default false: tests pass a logger in `overrides` to read them). */
  logRequests?: boolean;
  /** Attach the WebSocket endpoint (default true), with its options when an object. */
  realtime?: boolean | Parameters<typeof attachRealtime>[2];
}

export async function startApi(options: StartOptions = {}): Promise<Harness> {
  // Each harness gets its own BullMQ prefix, so test files sharing one Redis never take each other's jobs.
  const config = testConfig({
    ...(options.redis ? { REDIS_URL: testRedisUrl(), QUEUE_PREFIX: uniqueSlug('q') } : {}),
    ...options.env,
  });
  const runtime = await createRuntime(config, { log: testLogger(), ...options.overrides });
  const app = createApiApp(runtime, { logRequests: options.logRequests ?? false });
  const attached = options.attach ? await options.attach(runtime) : null;
  const server = await listen(options.compose ? options.compose(runtime, app.fetch) : app.fetch, {
    host: '127.0.0.1',
    port: 0,
    ...serverLimits(runtime),
  });
  const realtime =
    options.realtime === false
      ? null
      : attachRealtime(server.server, runtime, typeof options.realtime === 'object' ? options.realtime : {});
  const serviceToken = await signToken(TEST_JWT_SECRET, { sub: randomUUID(), role: 'super_admin', type: 'service' });
  const harness: Harness = {
    runtime,
    server,
    url: server.url,
    serviceToken,
    realtime,
    ws: (tenant, token, opts) => connectWs(server.url, tenant, token, opts),
    token: ({ tenant, role = 'tenant_user', sub = randomUUID() }) =>
      signToken(TEST_JWT_SECRET, { sub, tenant_slug: tenant, role }),
    async createTenant(prefix) {
      const slug = uniqueSlug(prefix);
      const res = await harness.request('POST', '/api/v1/tenants', {
        token: serviceToken,
        body: { slug, name: `Test ${slug}` },
      });
      if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
      return slug;
    },
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? serviceToken : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        const credentials = (opts.body as { credentials?: unknown } | null)?.credentials;
        if (credentials && typeof credentials === 'object') rememberSecrets(Object.values(credentials));
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(server.url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await realtime?.close();
      await server.close();
      await attached?.close();
      await runtime.close();
    },
  };
  return harness;
}

/** The tenant-scoped API base path. */
export const api = (tenant: string, path = '') => `/api/v1/tenants/${tenant}/communications${path}`;

/** A frame as the WebSocket sends it. */
export interface WsFrame {
  type: string;
  id?: string;
  data?: Record<string, any>;
  [key: string]: unknown;
}

export interface WsOptions {
  lastEventId?: string;
  /** Send the token as `Authorization: Bearer` instead of `?token=`. */
  header?: boolean;
  /** Extra query string (without `?`). */
  query?: string;
  /** Answer protocol pings (default true); false plays a dead peer. */
  autoPong?: boolean;
}

export interface WsClient {
  ws: WebSocket;
  /** Every frame received so far, in order. */
  frames: WsFrame[];
  /** The first frame (received already, or within `ms`) that matches. */
  waitFor(match: (frame: WsFrame) => boolean, ms?: number): Promise<WsFrame>;
  /** Waits until the frames received satisfy `done`. */
  until(done: (frames: WsFrame[]) => boolean, ms?: number): Promise<WsFrame[]>;
  send(frame: unknown): void;
  /** Resolves when the socket closes, with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** The upgrade was answered with an HTTP status instead of a socket. */
export class WsRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Opens `/api/v1/tenants/{tenant}/communications/ws` on a server (any harness's `url`). */
export function connectWs(
  baseUrl: string,
  tenant: string,
  token: string | null,
  options: WsOptions = {},
): Promise<WsClient> {
  const params = new URLSearchParams(options.query ?? '');
  if (token && !options.header) params.set('token', token);
  if (options.lastEventId !== undefined) params.set('last_event_id', options.lastEventId);
  const url = `${baseUrl.replace(/^http/, 'ws')}/api/v1/tenants/${tenant}/communications/ws?${params}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: token && options.header ? { authorization: `Bearer ${token}` } : {},
      autoPong: options.autoPong ?? true,
    });
    const frames: WsFrame[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (d) => {
      frames.push(JSON.parse(d.toString()));
      for (const w of waiters) w();
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    const until: WsClient['until'] = (done, ms = 5_000) =>
      new Promise((ok, fail) => {
        const check = () => {
          if (!done(frames)) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(frames);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`timed out after ${ms} ms; frames: ${JSON.stringify(frames).slice(0, 2_000)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        until,
        waitFor: async (match, ms) => (await until((f) => f.some(match), ms)).find(match)!,
        send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        closed,
        async close() {
          if (ws.readyState !== WebSocket.CLOSED) ws.close();
          await closed;
        },
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => reject(new WsRefused(res.statusCode ?? 0, res.headers, body)));
    });
    ws.once('error', reject);
  });
}

/**
 * Writes a channel and its members straight into the tenant's tables (no events), for tests of delivery that
 * must not depend on the chat routes. Returns the channel id.
 */
export async function seedChannel(
  runtime: Runtime,
  tenant: string,
  options: { type?: 'public' | 'private' | 'direct'; members: string[] },
): Promise<number> {
  const { channels, channelMembers } = (await runtime.tenants.resolve(tenant)).tables;
  const slug = `seed-${randomUUID().slice(0, 12)}`;
  const [row] = await runtime.database.db
    .insert(channels)
    .values({ name: slug, slug, type: options.type ?? 'private', createdBy: options.members[0] ?? randomUUID() })
    .returning({ id: channels.id });
  if (options.members.length)
    await runtime.database.db
      .insert(channelMembers)
      .values(options.members.map((userId) => ({ channelId: row!.id, userId })));
  return row!.id;
}

/** A token of `tenant` for each named user (`{name: user id}`), tenant users unless `roleOf` names another role. */
export async function tokensFor<Name extends string>(
  h: Harness,
  tenant: string,
  users: Record<Name, string>,
  roleOf: (name: Name) => 'tenant_admin' | 'tenant_user' = () => 'tenant_user',
): Promise<Record<Name, string>> {
  const tokens = {} as Record<Name, string>;
  for (const [name, sub] of Object.entries(users) as [Name, string][])
    tokens[name] = await h.token({ tenant, sub, role: roleOf(name) });
  return tokens;
}
