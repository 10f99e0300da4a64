/**
 * Test helpers for adapter packages: raw requests from fixtures and a fake provider
 * HTTP server on loopback that records what it receives. Not exported from the package's main entry.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawRequest } from './index.js';

export type { SignedWebhook } from './outbound.js';

export function rawJson(
  body: string,
  headers: Record<string, string> = {},
  url = 'https://comms.example.com/webhooks/acme/x',
): RawRequest {
  return { url, headers: { 'content-type': 'application/json', ...headers }, body: new TextEncoder().encode(body) };
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server answering each request with `reply(n)`; `requests` records them. */
export async function fakeServer(
  reply: (req: Recorded, n: number) => { status: number; body?: unknown; headers?: Record<string, string> },
) {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(rec);
      const out = reply(rec, requests.length);
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
