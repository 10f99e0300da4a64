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

/** One bad-value case of an adapter's fixtures: a documented fixture with one field set to a value it does not allow. */
export interface BadValueCase {
  case: string;
  /** The fixture it starts from. */
  base: string;
  /** Where the value goes: a dotted path (`entry.0.timestamp`), or a form parameter's name. */
  set: string;
  /** The value; null removes the field; `{repeat, times, before?, after?}` builds a long string. */
  to: unknown;
  /** The field the refusal must name. */
  field: string;
}

/** A case's value, with `{repeat, times, before, after}` built into its long string. */
export function caseValue(to: unknown): unknown {
  if (to && typeof to === 'object' && 'repeat' in to) {
    const r = to as { repeat: string; times: number; before?: string; after?: string };
    return (r.before ?? '') + r.repeat.repeat(r.times) + (r.after ?? '');
  }
  return to;
}

/** A deep copy of `base` with the value at the dotted `path` set to `to` (removed when null). */
export function withValueSet<T>(base: T, path: string, to: unknown): T {
  const copy = structuredClone(base);
  const keys = path.split('.');
  let node: Record<string, unknown> = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  const value = caseValue(to);
  if (value === null) delete node[last];
  else node[last] = value;
  return copy;
}
