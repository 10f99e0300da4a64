/**
 * A receiver of our outgoing webhooks on loopback, playing a tenant's system. It records every request and
 * verifies its signature with the `standardwebhooks` package (the reference implementation of
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md), never with our
 * own signing code. `answer` decides each response: a status, or `hang` (no answer at all).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  userAgent: string | undefined;
  contentType: string | undefined;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, any> };
  headers: IncomingHttpHeaders;
  at: number;
}

export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** The answer to the n-th request (0-based); default 200. */
  answer: (n: number, req: Received) => Answer;
  /** Whether `standardwebhooks` accepts the request under `secret`. */
  verifies(req: Received, secret: string): boolean;
  waitFor(count: number, ms?: number, match?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const hanging = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    received,
    answer,
    verifies(req, secret) {
      try {
        new Webhook(secret).verify(req.body, {
          'webhook-id': req.id,
          'webhook-timestamp': req.timestamp,
          'webhook-signature': req.signature,
        });
        return true;
      } catch {
        return false;
      }
    },
    async waitFor(count, ms = 15_000, match = () => true) {
      const until = Date.now() + ms;
      while (received.filter(match).length < count) {
        if (Date.now() > until)
          throw new Error(`expected ${count} requests, got ${received.filter(match).length}: ${types(received)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received.filter(match);
    },
    async close() {
      for (const end of hanging) end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        body,
        json: JSON.parse(body),
        headers: req.headers,
        at: Date.now(),
      };
      const n = received.length;
      received.push(r);
      const a = receiver.answer(n, r);
      if (a === 'hang') {
        const end = () => res.destroy();
        hanging.add(end);
        return;
      }
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a >= 300 ? `refused with ${a}` : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

const types = (rs: Received[]) => rs.map((r) => `${r.json.type}:${r.id}`).join(', ');
