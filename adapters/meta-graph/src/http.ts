/**
 * A lean HTTP client for the providers' JSON APIs: node:http(s) over keep-alive agents, the body read whole.
 * `fetch` would do, but costs several times the CPU per request (web streams, Request/Response objects),
 * which is most of a busy worker's time when the provider answers in a millisecond.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
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

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * GETs `url` on the same keep-alive agents and resolves once the answer's head is in, its body unread (a Node
 * stream of Buffers, read as it arrives: nothing is held whole). Redirects are followed (at most five), and, as
 * `fetch` does, the `authorization` header is not sent past the origin it was given for. A non-2xx answer is
 * resolved too (its body drained), for the caller to judge. Rejects on network errors, timeouts and aborts.
 */
export async function httpGetStream(
  url: string,
  headers: Record<string, string>,
  signal?: AbortSignal | null,
): Promise<IncomingMessage> {
  let target = new URL(url);
  const origin = target.origin;
  for (let hop = 0; ; hop += 1) {
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') throw new Error(`unsupported URL ${target.protocol}`);
    const sent =
      target.origin === origin
        ? headers
        : Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(target, {
        method: 'GET',
        agent: agents[secure ? 'https:' : 'http:'],
        headers: sent,
        signal: signal ?? undefined,
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return res;
    res.resume();
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
    target = new URL(location, target);
  }
}
