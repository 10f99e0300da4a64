// Chaos: a chat channel's members connected over WebSocket to two API instances sharing Redis; messages posted
// at 20/s through the instance that stays up; the other is killed with SIGKILL and started again. Every client
// reconnects (to whichever instance answers) with `?last_event_id=` of the last frame it saw, as the console
// does. The audit: each client got every message exactly once, in the order posted, across the reconnect.
import { randomUUID } from 'node:crypto';
import { signToken } from '@comms/core/platform';
import { schemaNameFor } from '@comms/db';
import { startThrowawayRedis } from '@comms/test/throwaway';
import pg from 'pg';
import WebSocket from 'ws';
import { type ServerProcess, startServer } from '../lib.js';
import { chaosDatabase } from './lib.js';

const SECRET = 'chaos-secret-0123456789abcdefghij';
const SLUG = 'chaos-rt';
const MEMBERS = 100;
const RATE = 20;
const SECONDS = 20;

interface Client {
  user: string;
  token: string;
  lastEventId: string | null;
  /** The sequence numbers of the messages received, in arrival order. */
  seqs: number[];
  reconnects: number;
  resyncs: number;
  socket: WebSocket | null;
}

export async function run() {
  const [postgres, redis] = await Promise.all([chaosDatabase(SLUG, 'Chaos realtime'), startThrowawayRedis()]);
  const schema = schemaNameFor(SLUG);
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const users = Array.from({ length: MEMBERS + 1 }, () => randomUUID());
  const { rows } = await db.query(
    `insert into "${schema}".channels (name, slug, type, created_by) values ('Everyone', 'everyone', 'public', $1) returning id`,
    [users[0]],
  );
  const channelId = rows[0].id as number;
  await db.query(
    `insert into "${schema}".channel_members (channel_id, user_id, role) select $1, u, 'member' from unnest($2::uuid[]) u`,
    [channelId, users],
  );
  await db.end();

  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, JWT_SECRET: SECRET, NODE_ENV: 'test' };
  const steady = await startServer('api', env);
  let doomed: ServerProcess | null = await startServer('api', env);
  const sign = (sub: string) => signToken(SECRET, { sub, tenant_slug: SLUG, role: 'tenant_user' }, '1h');
  const poster = await sign(users[0]!);
  const clients: Client[] = await Promise.all(
    users.slice(1).map(async (user) => ({
      user,
      token: await sign(user),
      lastEventId: null,
      seqs: [],
      reconnects: 0,
      resyncs: 0,
      socket: null,
    })),
  );

  const wsPath = (c: Client) =>
    `/api/v1/tenants/${SLUG}/communications/ws?token=${c.token}${c.lastEventId ? `&last_event_id=${encodeURIComponent(c.lastEventId)}` : ''}`;
  let stopping = false;
  const connect = (c: Client, base: () => string): Promise<void> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`${base().replace('http', 'ws')}${wsPath(c)}`);
      c.socket = ws;
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; id?: string; data?: { content?: string } };
        if (frame.type === 'resync_required') c.resyncs += 1;
        if (frame.type !== 'entry_created') return;
        if (frame.id) c.lastEventId = frame.id;
        const seq = Number(/^chaos (\d+)$/.exec(frame.data?.content ?? '')?.[1]);
        if (Number.isInteger(seq)) c.seqs.push(seq);
      });
      ws.once('open', () => resolve());
      // Dropped (its instance died) or refused (it is restarting): come back with the last event id, as a client
      // does, to whichever instance answers.
      ws.once('close', () => {
        if (stopping) return;
        c.reconnects += 1;
        setTimeout(() => void connect(c, () => (doomed && Math.random() < 0.5 ? doomed.url : steady.url)), 200);
      });
      ws.once('error', () => resolve());
    });
  // Half the clients on each instance.
  await Promise.all(clients.map((c, i) => connect(c, () => (i % 2 === 0 ? steady.url : doomed!.url))));

  const started = Date.now();
  const faults: { fault: string; at_s: number }[] = [];
  const chaos = (async () => {
    await new Promise((r) => setTimeout(r, 6_000));
    faults.push({ fault: 'second API instance killed (SIGKILL)', at_s: Math.round((Date.now() - started) / 100) / 10 });
    const victim = doomed!;
    doomed = null;
    const exited = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 3_000));
    doomed = await startServer('api', env);
    faults.push({ fault: 'second API instance started again', at_s: Math.round((Date.now() - started) / 100) / 10 });
  })();
  const total = RATE * SECONDS;
  let posted = 0;
  for (let seq = 0; seq < total; seq++) {
    const due = started + (seq / RATE) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const res = await fetch(`${steady.url}/api/v1/tenants/${SLUG}/communications/chat/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${poster}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: `chaos ${seq}` }),
    });
    if (res.status === 201) posted += 1;
    await res.text();
  }
  await chaos;
  // Let the last frames and reconnects land.
  await new Promise((r) => setTimeout(r, 3_000));
  stopping = true;
  for (const c of clients) c.socket?.close();
  await Promise.all([steady.stop(), doomed?.stop()]);
  await Promise.all([redis.stop(), postgres.stop()]);

  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (const c of clients) {
    const seen = new Set<number>();
    for (let k = 0; k < c.seqs.length; k++) {
      if (seen.has(c.seqs[k]!)) duplicated += 1;
      seen.add(c.seqs[k]!);
      if (k > 0 && c.seqs[k]! < c.seqs[k - 1]!) outOfOrder += 1;
    }
    lost += total - seen.size;
  }
  return {
    scenario: 'chat over WebSocket while one of two API instances is SIGKILLed and restarted',
    members: MEMBERS,
    messages_posted: posted,
    deliveries_expected: posted * MEMBERS,
    deliveries: clients.reduce((n, c) => n + c.seqs.length, 0),
    lost,
    duplicated,
    out_of_order: outOfOrder,
    clients_reconnected: clients.filter((c) => c.reconnects > 0).length,
    resync_required: clients.reduce((n, c) => n + c.resyncs, 0),
    faults,
  };
}
