// readWebhook against a real Node HTTP server and raw sockets: limits, and senders that go away.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Context } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody as readWebhook } from './body.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A server whose handler waits `delayMs`, then reads the body; resolves with what the read gave. */
function serveOnce(delayMs: number, limit: number) {
  let settle!: (outcome: string) => void;
  const outcome = new Promise<string>((r) => {
    settle = r;
  });
  server = createServer(async (incoming: IncomingMessage, outgoing) => {
    await new Promise((r) => setTimeout(r, delayMs));
    const c = { env: { incoming }, req: { raw: new Request('http://x/') } } as unknown as Context;
    try {
      const read = await readWebhook(c, limit);
      settle(read === 'too-large' ? read : `read ${read.body.length} bytes, ${read.headers['x-test']}`);
    } catch (err) {
      settle(`failed: ${(err as Error).message}`);
    }
    outgoing.end();
  });
  return new Promise<{ port: number; outcome: Promise<string> }>((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve({ port: (server!.address() as { port: number }).port, outcome })),
  );
}

function send(port: number, raw: string, destroyAfterMs?: number) {
  const socket = connect(port, '127.0.0.1', () => socket.write(raw));
  socket.on('error', () => {});
  if (destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), destroyAfterMs);
  return socket;
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r(`no answer within ${ms} ms`), ms))]);

describe('readWebhook (served by Node)', () => {
  it('reads the body and headers', async () => {
    const { port, outcome } = await serveOnce(0, 100);
    const socket = send(port, 'POST / HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello');
    expect(await within(outcome, 2_000)).toBe('read 5 bytes, yes');
    socket.destroy();
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const { port, outcome } = await serveOnce(0, 10);
    const socket = send(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n',
    );
    expect(await within(outcome, 2_000)).toBe('too-large');
    socket.destroy();
  });

  it('settles when the sender went away before the body was read', async () => {
    const { port, outcome } = await serveOnce(200, 1_000);
    send(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', 50);
    expect(await within(outcome, 2_000)).toMatch(/^failed: the client closed the request/);
  });

  it('settles when the sender goes away while the body is being read', async () => {
    const { port, outcome } = await serveOnce(0, 1_000);
    send(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', 100);
    expect(await within(outcome, 2_000)).toMatch(/^failed: /);
  });
});
