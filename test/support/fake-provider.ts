/**
 * A fake provider API on loopback: records every request and answers with what the test scripts
 * (by default a success shaped like the real provider's). Providers are the only thing faked, and only at HTTP.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
  form: Record<string, string> | null;
}

export type Responder = (
  req: RecordedRequest,
  n: number,
) =>
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  /** Replace how the next requests are answered. */
  respond(responder: Responder): void;
  close(): Promise<void>;
}

export async function startFakeProvider(responder: Responder): Promise<FakeProvider> {
  let current = responder;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {}
      const form = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')
        ? Object.fromEntries(new URLSearchParams(body))
        : null;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        form,
      };
      requests.push(recorded);
      const out = await current(recorded, requests.length);
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(
        out.body === undefined
          ? ''
          : typeof out.body === 'string' || Buffer.isBuffer(out.body)
            ? out.body
            : JSON.stringify(out.body),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(r) {
      current = r;
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
