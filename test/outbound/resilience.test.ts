// Outbound delivery through outages and restarts: replies accepted while Redis is down are sent once it is back,
// a stopping worker finishes the send in hand, and the embedded mode (no Redis) sends through the same processors.
import { describe, expect, it, onTestFailed } from 'vitest';
import { api } from '../support/harness.js';
import { fake, messageRow, useOutboundStack, waOk, whatsappConversation } from '../support/outbound.js';
import { freePort } from '../support/ports.js';
import { startStack } from '../support/stack.js';
import { proxiedTestDatabase } from '../support/tcp-proxy.js';
import { spawnRedis } from '../support/throwaway.js';
import { eventually } from '../support/wait.js';

useOutboundStack();

// A redis-server of the test's own, on a port of its own, that it kills and starts again.
const startRedis = spawnRedis;

describe('Redis outage', () => {
  it('accepts replies while Redis is down and sends them once it is back; the process survives', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const stack = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, WHATSAPP_API_URL: fake.url },
    });
    // Where the time went, printed only when the test fails (it timed out twice in full runs, never alone).
    const started = Date.now();
    const steps: string[] = [];
    const step = (what: string) => steps.push(`${Date.now() - started} ms: ${what}`);
    onTestFailed(() => console.error(`Redis outage test, its steps before it failed:\n${steps.join('\n')}`));
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    process.on('unhandledRejection', onRejection);
    try {
      fake.respond(waOk);
      const { tenant, conv, from } = await whatsappConversation(stack);
      step('conversation made');
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      step('redis killed');
      const res = await stack.request('POST', api(tenant, '/messages'), {
        body: { conversation_id: conv.id, content: 'sent during the outage' },
      });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('pending');
      expect((await messageRow(tenant, res.body.id)).status).toBe('pending');
      step('reply accepted');
      redis = await startRedis(port);
      step('redis back');
      const row = await eventually(
        async () => {
          step(`swept: ${await stack.worker!.sweep()} enqueued`);
          return messageRow(tenant, res.body.id);
        },
        (r) => r.status === 'sent',
        30_000,
      );
      expect(row.status).toBe('sent');
      expect(
        fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'sent during the outage'),
      ).toHaveLength(1);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await stack.close();
      redis.kill('SIGKILL');
    }
  }, 60_000);
});

describe('PostgreSQL outage after the provider accepted', () => {
  it('stores the provider id once the database is back, and never sends the reply again', async () => {
    const { proxy, url } = await proxiedTestDatabase();
    const stack = await startStack({
      redis: true,
      worker: { sweepAfterMs: 60_000 },
      env: { DATABASE_URL: url, WHATSAPP_API_URL: fake.url, QUEUE_PREFIX: 'record-later' },
    });
    try {
      const { tenant, conv, from } = await whatsappConversation(stack);
      // The provider takes the message, and the database goes away before the worker can write its id.
      fake.respond(async (req, n) => {
        if (req.json?.to === from) {
          await proxy.cut();
          setTimeout(() => void proxy.restore(), 1_500);
        }
        return waOk(req, n);
      });
      const msg = (
        await stack.request('POST', api(tenant, '/messages'), {
          body: { conversation_id: conv.id, content: 'once only' },
        })
      ).body;
      const row = await eventually(
        () => messageRow(tenant, msg.id),
        (r) => r.status === 'sent',
        20_000,
      );
      expect(row.external_id).toMatch(/^wamid\.fake\d+$/);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'once only')).toHaveLength(1);
    } finally {
      fake.respond(waOk);
      await stack.close();
      await proxy.close();
    }
  }, 40_000);
});

describe('worker lifecycle', () => {
  it('a worker stopping mid-send finishes the job in hand; the next worker sends nothing twice', async () => {
    const a = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { WHATSAPP_API_URL: fake.url, QUEUE_PREFIX: 'lifecycle' },
    });
    const { tenant, conv, from } = await whatsappConversation(a);
    let started = false;
    fake.respond(async (req, n) => {
      if (req.json?.to === from) {
        started = true;
        await new Promise((r) => setTimeout(r, 1_500));
      }
      return waOk(req, n);
    });
    const msg = (
      await a.request('POST', api(tenant, '/messages'), { body: { conversation_id: conv.id, content: 'slow send' } })
    ).body;
    await eventually(
      async () => started,
      (s) => s,
    );
    await a.close(); // SIGTERM path: stops taking jobs, waits for the one in hand
    expect((await messageRow(tenant, msg.id)).status).toBe('sent');
    const b = await startStack({
      redis: true,
      worker: { sweepAfterMs: 0 },
      env: { WHATSAPP_API_URL: fake.url, QUEUE_PREFIX: 'lifecycle' },
    });
    try {
      await b.worker!.sweep();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(fake.requests.filter((r) => r.json?.to === from && r.json?.text?.body === 'slow send')).toHaveLength(1);
    } finally {
      fake.respond(waOk);
      await b.close();
    }
  });

  it('the embedded mode (in-process queue, no Redis) sends replies through the same processors', async () => {
    fake.respond(waOk);
    const e = await startStack({ worker: true, env: { WHATSAPP_API_URL: fake.url } });
    try {
      expect(e.runtime.queues.kind).toBe('in-process');
      const { tenant, conv, from } = await whatsappConversation(e);
      const msg = (
        await e.request('POST', api(tenant, '/messages'), {
          body: { conversation_id: conv.id, content: 'embedded reply' },
        })
      ).body;
      const row = await eventually(
        () => messageRow(tenant, msg.id),
        (r) => r.status === 'sent',
      );
      expect(row.external_id).toMatch(/^wamid\.fake/);
      expect(fake.requests.filter((r) => r.json?.to === from)).toHaveLength(1);
    } finally {
      await e.close();
    }
  });
});
