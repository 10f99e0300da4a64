/**
 * A lean HTTP client for the providers' JSON APIs: node:http(s) over keep-alive agents, the body read whole.
 * `fetch` would do, but costs several times the CPU per request (web streams, Request/Response objects),
 * which is most of a busy worker's time when the provider answers in a millisecond.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What a provider answered: the parts of a fetch Response the adapters read. */
export interface HttpReply {
  status: number;
  ok: boolean;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};

function replyOf(status: number, statusText: string, headers: IncomingHttpHeaders, body: Buffer): HttpReply {
  return {
    status,
    ok: status >= 200 && status < 300,
    statusText,
    headers: {
      get(name) {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    text: async () => body.toString('utf8'),
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
  };
}

/** Sends `body` and resolves with the whole answer; rejects on network errors, timeouts and aborts. */
export function httpSend(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal | null },
): Promise<HttpReply> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported URL ${target.protocol}`));
  const payload = init.body === undefined ? undefined : Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method,
        agent: agents[secure ? 'https:' : 'http:'],
        headers: payload ? { ...init.headers, 'content-length': String(payload.length) } : init.headers,
        signal: init.signal ?? undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(replyOf(res.statusCode ?? 0, res.statusMessage ?? '', res.headers, Buffer.concat(chunks))),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
