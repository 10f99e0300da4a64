// `npm start` with no DATABASE_URL / REDIS_URL: PGlite under a data dir, in-process queue; data survives a restart;
// the demo's loop finishes: a reply to a simulated conversation comes back sent, delivered and read (the sandbox).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';

const dataDir = mkdtempSync(join(tmpdir(), 'comms-embedded-'));
// Servers this file started and that are still running: a failed assertion must not leave one behind.
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(port: number): Promise<{ child: ChildProcess; token: string; output: () => string }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PGLITE_DIR: dataDir,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    // The sandbox's pause between statuses, short for the test (1 s by default).
    SANDBOX_STATUS_DELAY_MS: '100',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.JWT_SECRET;
  delete env.NODE_ENV;
  delete env.SANDBOX_TRANSPORT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/all-in-one/src/main.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const token = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = out.match(/\n(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
  return { child, token, output: () => out };
}

function simulate(provider: string, base: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.JWT_SECRET;
    delete env.NODE_ENV;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tools/src/simulate.ts', provider, '--tenant', 'demo', '--url', base],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`simulate ${provider} exited ${code}: ${out}`)),
    );
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('embedded mode', () => {
  it('serves /health, prints the docs URL and a token, and keeps data across a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = await start(port);
    expect(first.output()).toContain(`${base}/docs`);
    expect(first.output()).toMatch(/embedded PGlite/);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`${base}/ready`)).json()) as { checks: unknown };
    expect(ready.checks).toEqual({ database: 'ok', queue: 'ok' });
    const headers = { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/api/v1/tenants/demo/communications/conversations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        channel: 'email',
        contact_identifier: 'traveller@example.com',
        contact_name: 'Persisted',
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };

    // `npm run simulate`: signed provider-shaped webhooks through the embedded gateway.
    for (const provider of ['whatsapp', 'email', 'sms']) {
      const out = await simulate(provider, base);
      expect(out, provider).toMatch(/webhook → 200/);
      expect(out, provider).toMatch(/conversation \d+: new, 1 message/);
    }
    const list = (await (
      await fetch(`${base}/api/v1/tenants/demo/communications/conversations?limit=50`, { headers })
    ).json()) as {
      data: { id: number; channel: string; contact_name: string | null }[];
    };
    expect(list.data.map((c) => c.channel).sort()).toEqual(['email', 'email', 'sms', 'whatsapp']);

    // The demo's loop: an agent's reply to each simulated conversation goes sent → delivered → read, answered by
    // the sandbox transport (on by default here, and said so in the banner) instead of the providers.
    expect(first.output()).toMatch(/Sandbox: +ON \(SANDBOX_TRANSPORT\)/);
    const simulated = list.data.filter((c) => c.id !== id);
    for (const conversation of simulated) {
      const res = await fetch(`${base}/api/v1/tenants/demo/communications/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ conversation_id: conversation.id, type: 'text', content: 'Yes, we have rooms!' }),
      });
      expect(res.status, conversation.channel).toBe(202);
    }
    for (const conversation of simulated) {
      const reply = await eventually(
        async () =>
          (
            (await (
              await fetch(`${base}/api/v1/tenants/demo/communications/messages/conversation/${conversation.id}`, {
                headers,
              })
            ).json()) as { data: { direction: string; status: string; external_id: string | null }[] }
          ).data.find((m) => m.direction === 'out'),
        (m) => m?.status === 'read',
        15_000,
      );
      expect(reply, conversation.channel).toMatchObject({ status: 'read' });
      expect(reply?.external_id, conversation.channel).toBeTruthy();
    }
    await stop(first.child);

    const second = await start(port);
    const got = await fetch(`${base}/api/v1/tenants/demo/communications/conversations/${id}`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { contact_name: string }).contact_name).toBe('Persisted');
    await stop(second.child);
  }, 120_000);
});
