/**
 * Starts the real apps on loopback ports against the real PostgreSQL (and, when asked,
 * Redis), and gives tests a client that speaks HTTP to them.
 */
import { randomUUID } from 'node:crypto';
import { attachRealtime, createApiApp, listen, type RunningServer } from '@comms/api';
import {
  type Config,
  createLogger,
  createRuntime,
  loadConfig,
  type Runtime,
  type RuntimeOverrides,
  signToken,
} from '@comms/core';
import { testDatabaseUrl, testRedisUrl, uniqueSlug } from './env.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijkl';

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
  compose?: (
    runtime: Runtime,
    apiFetch: (req: Request) => Response | Promise<Response>,
  ) => (req: Request) => Response | Promise<Response>;
  /** Runs after the runtime exists (start a worker, say); its close runs before the runtime closes. */
  attach?: (runtime: Runtime) => { close(): Promise<void> } | Promise<{ close(): Promise<void> }>;
}

export async function startApi(options: StartOptions = {}): Promise<Harness> {
  // Each harness gets its own BullMQ prefix, so test files sharing one Redis never take each other's jobs.
  const config = testConfig({
    ...(options.redis ? { REDIS_URL: testRedisUrl(), QUEUE_PREFIX: uniqueSlug('q') } : {}),
    ...options.env,
  });
  const runtime = await createRuntime(config, { log: createLogger({ level: 'silent' }), ...options.overrides });
  const app = createApiApp(runtime, { logRequests: false });
  const attached = options.attach ? await options.attach(runtime) : null;
  const server = await listen(options.compose ? options.compose(runtime, app.fetch) : app.fetch, {
    host: '127.0.0.1',
    port: 0,
  });
  const realtime = attachRealtime(server.server, runtime);
  const serviceToken = await signToken(TEST_JWT_SECRET, { sub: randomUUID(), role: 'super_admin', type: 'service' });
  const harness: Harness = {
    runtime,
    server,
    url: server.url,
    serviceToken,
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
      await realtime.close();
      await server.close();
      await attached?.close();
      await runtime.close();
    },
  };
  return harness;
}

/** The tenant-scoped API base path. */
export const api = (tenant: string, path = '') => `/api/v1/tenants/${tenant}/communications${path}`;
