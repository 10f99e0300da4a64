/**
 * Serving a Hono app on Node, the same way for every app: the request and header timeouts, the HTTP
 * parser's refusals as problem+json, and a graceful close.
 */
import { type Server, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { Counter, type Registry } from 'prom-client';
import { titleOf } from '../errors.js';
import type { Logger } from '../logger.js';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A fetch handler as @hono/node-server calls it: `env` carries the Node request and response
 * (`{ incoming, outgoing }`); a router in front of several apps passes it on, so they can use them.
 */
export type FetchHandler = (req: Request, env?: object) => Response | Promise<Response>;

export interface ListenOptions {
  host: string;
  port: number;
  /** The whole request, body included, must arrive within this (ms); else 408. */
  requestTimeoutMs?: number;
  /** The request line and headers must arrive within this (ms); else 408. */
  headersTimeoutMs?: number;
  /** Where refusals by the HTTP parser are counted (`http_client_errors_total`). */
  metrics?: Registry;
  log?: Logger;
  /** How long `close` lets requests in flight finish before cutting their connections (ms). */
  drainMs?: number;
}

/** Under the 8 s stop deadline of a process, with time left to close its database and queues. */
const DRAIN_MS = 6_000;

/** The listen options a runtime's configuration gives: its timeouts, its metrics and its logger. */
export function serverLimits(runtime: {
  config: { REQUEST_TIMEOUT_MS: number; HEADERS_TIMEOUT_MS: number };
  metrics: Registry;
  log: Logger;
}): Omit<ListenOptions, 'host' | 'port'> {
  return {
    requestTimeoutMs: runtime.config.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: runtime.config.HEADERS_TIMEOUT_MS,
    metrics: runtime.metrics,
    log: runtime.log,
  };
}

export function listen(fetch: FetchHandler, options: ListenOptions): Promise<RunningServer> {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout);
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        hostname: options.host,
        port: options.port,
        // Node checks unfinished requests every `connectionsCheckingInterval`; its 30 s default would let a
        // short timeout run up to 30 s late.
        serverOptions: {
          requestTimeout,
          headersTimeout,
          connectionsCheckingInterval: Math.max(250, Math.min(1_000, headersTimeout / 4)),
        },
      },
      (info: AddressInfo) => {
        const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
        resolve({
          server: server as Server,
          port: info.port,
          url: `http://${host}:${info.port}`,
          // Requests in flight finish (SIGTERM loses no accepted request); idle keep-alive sockets close at once
          // and the others as soon as their response is out; past `drainMs` whatever is left is cut.
          close: () =>
            new Promise<void>((done) => {
              const s = server as Server;
              const idle = setInterval(() => s.closeIdleConnections(), 50);
              const cut = setTimeout(() => s.closeAllConnections(), options.drainMs ?? DRAIN_MS);
              s.close(() => {
                clearInterval(idle);
                clearTimeout(cut);
                done();
              });
              s.closeIdleConnections();
            }),
        });
      },
    ) as Server;
    server.once('error', reject);
    // Idle keep-alive sockets a little over common proxy defaults.
    server.keepAliveTimeout = 65_000;
    answerClientErrors(server, { requestTimeout, metrics: options.metrics, log: options.log });
  });
}

const clientErrorCounters = new WeakMap<Registry, Counter>();

function clientErrorCounter(registry: Registry): Counter {
  let counter = clientErrorCounters.get(registry);
  if (!counter) {
    counter =
      (registry.getSingleMetric('http_client_errors_total') as Counter | undefined) ??
      new Counter({
        name: 'http_client_errors_total',
        help: 'Requests refused before routing: malformed, oversized headers, or not received in time',
        labelNames: ['status'],
        registers: [registry],
      });
    clientErrorCounters.set(registry, counter);
  }
  return counter;
}

/**
 * What Node's HTTP parser refuses before any route sees the request — a request line or headers too large,
 * a method HTTP does not know, bytes that are not HTTP, a request not received in time — is answered like
 * every other refusal, as application/problem+json, and counted. (Node's default is a bare status line.)
 */
function answerClientErrors(
  server: Server,
  options: { requestTimeout: number; metrics?: Registry | undefined; log?: Logger | undefined },
) {
  const counter = options.metrics ? clientErrorCounter(options.metrics) : null;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // The client went away, or a response is already on its way: there is nobody to answer.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, detail] = refusalOf(err, options.requestTimeout);
    counter?.inc({ status: String(status) });
    options.log?.info({ status, code: err.code }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ type: 'about:blank', title: titleOf(status), status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

function refusalOf(err: NodeJS.ErrnoException, requestTimeout: number): [number, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'the request line and headers are larger than the server accepts (16 KiB)'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, `the request was not received completely within ${requestTimeout / 1000} s`];
    case 'HPE_INVALID_METHOD':
      return [400, 'the request method is not one HTTP defines'];
    default:
      return [400, 'the request is not valid HTTP/1.1'];
  }
}
