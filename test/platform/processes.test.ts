// Processes per host (issue 16): `npm start` on PostgreSQL and Redis with API_PROCESSES=2 and WORKER_PROCESSES=2 is
// one primary, two HTTP processes sharing one port and two worker processes. What was per process stays right:
// /metrics counts both HTTP processes, a WebSocket on one process gets events caused through the other and
// replays across them, a per-account send rate holds across both workers, the pending sweeper runs once per
// period, and SIGTERM to the process group finishes what is in flight before every process is gone.
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { signedMetaWebhook, whatsappText, whatsappWebhook } from '@comms/adapter-whatsapp/testing';
import { createRuntime, signToken } from '@comms/core/platform';
import { migrateTenants } from '@comms/core/tenancy';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectTestDb, testDatabaseUrl, testRedisUrl, uniqueSlug } from '../support/env.js';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.js';
import { api, testConfig } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { type ServiceProcess, serverPidOf, startService } from '../support/processes.js';
import { eventually, messageRow } from '../support/wait.js';

const SECRET = 'processes-secret-0123456789-abcdefgh';
const APP_SECRET = 'wa-secret-processes';
const PERIOD_MS = 200;

let service: ServiceProcess;
let fake: FakeProvider;
let port: number;
let base: string;
let db: pg.Client;
let serviceToken: string;
/** When the fake provider received each request (ms), by the phone number id in its path. */
const received = new Map<string, number[]>();
/** Texts the fake provider answers only after a pause: a send in flight while the service stops. */
const SLOW = 'slow reply';

beforeAll(async () => {
  const runtime = await createRuntime(testConfig());
  await migrateTenants(runtime);
  await runtime.close();
  db = await connectTestDb();
  fake = await startFakeProvider(async (req, n) => {
    const phone = req.path.split('/')[1] ?? '';
    received.set(phone, [...(received.get(phone) ?? []), Date.now()]);
    if (req.json?.text?.body === SLOW) await new Promise((r) => setTimeout(r, 1_500));
    return { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: `wamid.proc${n}` }] } };
  });
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serviceToken = await signToken(SECRET, { sub: randomUUID(), role: 'super_admin', type: 'service' });
  service = await startService(
    [process.execPath, '--import', 'tsx', 'apps/all-in-one/src/main.ts'],
    {
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: uniqueSlug('procs'),
      JWT_SECRET: SECRET,
      HOST: '127.0.0.1',
      PORT: String(port),
      API_PROCESSES: '2',
      WORKER_PROCESSES: '2',
      PENDING_SWEEP_INTERVAL_MS: String(PERIOD_MS),
      WHATSAPP_API_URL: fake.url,
      LOG_LEVEL: 'warn',
    },
    /Dev token/,
    ['NODE_ENV', 'SANDBOX_TRANSPORT'],
  );
}, 180_000);

afterAll(async () => {
  service?.kill();
  await fake?.close();
  await db?.end();
});

async function call(method: string, path: string, body?: unknown, token = serviceToken) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

async function createTenant() {
  const slug = uniqueSlug('procs');
  expect((await call('POST', '/api/v1/tenants', { slug, name: slug })).status).toBe(201);
  return slug;
}

/** One GET on a connection of its own; resolves with the pid of the process that answered it. */
function getOnNewConnection(path: string): Promise<{ status: number; pid: number | null }> {
  // Kept alive, so the server holds its side open while the pid is looked up.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { agent }, (res) => {
      const pid = serverPidOf(req.socket!.localPort!, port, service.tree());
      res.resume();
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode!, pid });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of a counter in the aggregated /metrics, for a label set (0 when absent). */
async function counter(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

interface Socket {
  ws: WebSocket;
  pid: number | null;
  frames: { type: string; id?: string; data?: { id?: number } }[];
}

function openSocket(tenant: string, token: string, lastEventId?: string): Promise<Socket> {
  const query = new URLSearchParams({ token, ...(lastEventId ? { last_event_id: lastEventId } : {}) });
  const ws = new WebSocket(`ws://127.0.0.1:${port}${api(tenant, '/ws')}?${query}`);
  const socket: Socket = { ws, pid: null, frames: [] };
  ws.on('message', (data) => socket.frames.push(JSON.parse(String(data))));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      const local = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
      socket.pid = serverPidOf(local, port, service.tree());
      resolve(socket);
    });
    ws.once('error', reject);
  });
}

/** Sockets opened until two are served by different processes (connections are handed out round-robin). */
async function socketsOnTwoProcesses(tenant: string, token: string): Promise<[Socket, Socket]> {
  const open: Socket[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await openSocket(tenant, token);
    const other = open.find((o) => o.pid !== s.pid);
    if (other && s.pid) {
      for (const o of open) if (o !== other) o.ws.close();
      return [other, s];
    }
    open.push(s);
  }
  throw new Error('every WebSocket landed on one process');
}

const createdIds = (s: Socket) => s.frames.filter((f) => f.type === 'conversation_created').map((f) => f.data?.id);

describe('npm start with API_PROCESSES=2 and WORKER_PROCESSES=2', () => {
  it('is one primary with two HTTP and two worker processes, and /metrics counts the requests of both', async () => {
    expect(service.tree().length).toBeGreaterThanOrEqual(5);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await getOnNewConnection('/health'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.every((a) => a.pid !== null)).toBe(true);
    expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
    expect(await counter('http_requests_total', 'method="GET",route="/health",status="200"')).toBe(6);
  });

  it('a WebSocket on one process receives events caused through the other, and replays across them', async () => {
    const tenant = await createTenant();
    const token = await signToken(SECRET, { sub: randomUUID(), tenant_slug: tenant, role: 'tenant_admin' });
    const [a, b] = await socketsOnTwoProcesses(tenant, token);
    const newConversation = async () => {
      const res = await call(
        'POST',
        api(tenant, '/conversations'),
        { channel: 'sms', contact_identifier: `+1555${Math.floor(Math.random() * 1e7)}`, contact_name: 'Ana' },
        token,
      );
      expect(res.status, res.text).toBe(201);
      return res.body.id as number;
    };
    const first = await newConversation();
    // Whichever process took the POST, one of the two sockets is on the other.
    await eventually(
      async () => [createdIds(a), createdIds(b)],
      ([x, y]) => x!.includes(first) && y!.includes(first),
      10_000,
    );
    // `a` goes away; what happens meanwhile is replayed to its return on the other process.
    const lastSeen = a.frames.at(-1)!.id!;
    a.ws.close();
    const missed = await newConversation();
    let back: Socket | null = null;
    for (let i = 0; i < 10 && !back; i++) {
      const s = await openSocket(tenant, token, lastSeen);
      if (s.pid !== a.pid) back = s;
      else s.ws.close();
    }
    expect(back, 'a reconnection on the other process').not.toBeNull();
    await eventually(
      async () => createdIds(back!),
      (ids) => ids.includes(missed),
      10_000,
    );
    expect(createdIds(back!)).not.toContain(first);
    back!.ws.close();
    b.ws.close();
  });

  it('holds a per-account send rate across both worker processes, one provider call per message', async () => {
    const tenant = await createTenant();
    const phone = String(Math.floor(1e14 + Math.random() * 9e14));
    const account = await call('POST', api(tenant, '/channel-accounts'), {
      provider: 'whatsapp',
      name: 'rate limited',
      identifier: phone,
      credentials: { app_secret: APP_SECRET, access_token: 'EAAG-token' },
      settings: { rate_limit_per_second: 2 },
    });
    expect(account.status, account.text).toBe(201);
    const webhook = signedMetaWebhook(
      whatsappWebhook([whatsappText({ from: '5511999990000', name: 'Ana', text: 'hi' })], { phoneNumberId: phone }),
      APP_SECRET,
    );
    expect((await fetch(`${base}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...webhook })).status).toBe(200);
    const conversation = (await call('GET', api(tenant, '/conversations'))).body.data[0];
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await call('POST', api(tenant, '/messages'), {
        conversation_id: conversation.id,
        type: 'text',
        content: `reply ${i}`,
      });
      expect(res.status, res.text).toBe(202);
      ids.push(res.body.id);
    }
    await eventually(
      async () => Promise.all(ids.map((id) => messageRow(db, tenant, id))),
      (rows) => rows.every((r) => r?.status === 'sent'),
      30_000,
    );
    const times = received.get(phone)!;
    expect(times).toHaveLength(10);
    // 2 a second with a burst of 2: the last of 10 goes out no sooner than 4 s after the first. Two workers each
    // keeping a bucket of their own would have sent at 4 a second (about 1.5 s).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(3_500);
  }, 60_000);

  it('runs the pending sweeper once per period: the other worker finds the period taken', async () => {
    const labels = (outcome: string) => `job="pending-sweeper",outcome="${outcome}"`;
    await eventually(
      () => counter('periodic_job_ticks_total', labels('skipped')),
      (n) => n >= 3,
      10_000,
    );
    const ran = await counter('periodic_job_ticks_total', labels('ran'));
    const skipped = await counter('periodic_job_ticks_total', labels('skipped'));
    expect(ran).toBeGreaterThanOrEqual(1);
    // Both workers tick every period and one of them runs it: about as many skipped ticks as runs. Without the
    // lock nothing would be skipped and each period would run twice.
    expect(ran).toBeLessThanOrEqual(skipped + 2);
  });

  it('SIGTERM to the process group finishes the request and the send in flight, then every process is gone', async () => {
    const tenant = await createTenant();
    const phone = String(Math.floor(1e14 + Math.random() * 9e14));
    expect(
      (
        await call('POST', api(tenant, '/channel-accounts'), {
          provider: 'whatsapp',
          name: 'slow',
          identifier: phone,
          credentials: { app_secret: APP_SECRET, access_token: 'EAAG-token' },
        })
      ).status,
    ).toBe(201);
    const webhook = signedMetaWebhook(
      whatsappWebhook([whatsappText({ from: '5511999990001', name: 'Bia', text: 'hi' })], { phoneNumberId: phone }),
      APP_SECRET,
    );
    expect((await fetch(`${base}/webhooks/${tenant}/whatsapp`, { method: 'POST', ...webhook })).status).toBe(200);
    const conversation = (await call('GET', api(tenant, '/conversations'))).body.data[0];
    const reply = await call('POST', api(tenant, '/messages'), {
      conversation_id: conversation.id,
      type: 'text',
      content: SLOW,
    });
    expect(reply.status).toBe(202);
    // The send is at the provider, which answers in 1.5 s ...
    await eventually(
      async () => received.get(phone)?.length ?? 0,
      (n) => n === 1,
      10_000,
    );
    // ... and a request is half sent: its headers and half its body.
    const body = JSON.stringify({ channel: 'sms', contact_identifier: '+15550001234', contact_name: 'In flight' });
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.write(
      `POST ${api(tenant, '/conversations')} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${serviceToken}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const stopped = service.stop('SIGTERM', { group: true, withinMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    socket.write(body.slice(20));
    const { left } = await stopped;
    expect(left, service.output().slice(-3000)).toEqual([]);
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect((await messageRow(db, tenant, reply.body.id))?.status).toBe('sent');
    expect(received.get(phone)).toHaveLength(1);
    const schema = `tenant_${tenant.replaceAll('-', '_')}`;
    const rows = await db.query(`select 1 from ${schema}.inbox_conversations where contact_name = 'In flight'`);
    expect(rows.rowCount).toBe(1);
  }, 60_000);
});
