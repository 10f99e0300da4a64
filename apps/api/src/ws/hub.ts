/**
 * The WebSocket endpoint (DESIGN §10): GET /api/v1/tenants/{tenant}/communications/ws, on the HTTP server's
 * `upgrade`. The token (`Authorization: Bearer` or `?token=`) is checked before the socket opens: a missing,
 * bad or expired one gets 401, another tenant's 403, an unknown tenant 404, as plain HTTP answers to the
 * upgrade request. Each socket is then a session of the core realtime hub (delivery, typing, catch-up by
 * `?last_event_id=`); this file adds what belongs to the transport: protocol pings, dead-peer and
 * slow-consumer closes.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, canActOnTenant, type Principal, type Runtime, type Tenant } from '@comms/core/platform';
import { createRealtime, type Realtime, type RealtimeOptions } from '@comms/core/realtime';
import { WebSocket, WebSocketServer } from 'ws';
import { bearerToken } from '../middleware/auth.js';

const PATH = /^\/api\/v1\/tenants\/([^/]+)\/communications\/ws\/?$/;

export interface RealtimeHubOptions extends RealtimeOptions {
  /** Protocol-level ping interval; a socket that has not answered the previous ping is closed. */
  pingEveryMs?: number;
  /** A client this far behind (bytes queued to it) is disconnected; it reconnects with `last_event_id`. */
  maxBufferedBytes?: number;
}

export interface RealtimeHub {
  /** The process's hub (sessions, delivery). */
  realtime: Realtime;
  /** How many sockets are open. */
  size(): number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** The `exp` of a token already verified (ms), or null when it has none. */
function expiryOf(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Answers an upgrade request with a plain HTTP problem response: the socket never opens. */
function refuse(socket: Duplex, status: number, detail: string) {
  if (socket.destroyed) return;
  const title = REASONS[status] ?? 'Error';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${status === 401 ? 'WWW-Authenticate: Bearer\r\n' : ''}` +
      `Connection: close\r\n\r\n${body}`,
  );
}

/**
 * Attaches the WebSocket endpoint to a server made by `listen` (or any node:http server):
 * `const realtime = attachRealtime(server.server, runtime)`, and `await realtime.close()` before the server.
 */
export function attachRealtime(server: Server, runtime: Runtime, options: RealtimeHubOptions = {}): RealtimeHub {
  const realtime = createRealtime(runtime, options);
  const pingEveryMs = options.pingEveryMs ?? 30_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  // Client frames are tiny (typing, ping); compression would cost memory per socket for nothing.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const alive = new Map<WebSocket, boolean>();
  /** When each socket's token expires (ms): the socket closes then, and the client comes back with a new one. */
  const expiries = new Map<WebSocket, number>();
  const log = runtime.log.child({ component: 'ws' });

  const authorize = async (req: IncomingMessage, url: URL, rawSlug: string) => {
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token');
    if (!token) throw new AppError('unauthorized', 'a token is required (Authorization: Bearer, or ?token=)');
    const address = upgradeAddress(req, runtime.config.TRUST_PROXY);
    const wait = runtime.authFailures.retryAfter(address);
    if (wait) throw new AppError('too_many_requests', `too many refused tokens from this address; retry in ${wait} s`);
    const principal: Principal = await runtime.auth.verify(token).catch(async (err: unknown) => {
      if (err instanceof AppError && err.code === 'unauthorized') await runtime.authFailures.failed(address);
      throw err;
    });
    let slug: string;
    try {
      slug = decodeURIComponent(rawSlug);
    } catch {
      throw new AppError('not_found', 'tenant not found');
    }
    // Like the REST scope: another tenant's token learns nothing about which tenants exist.
    if (!canActOnTenant(principal, slug))
      throw new AppError('forbidden', `this token may not act on tenant '${slug.slice(0, 50)}'`);
    const tenant: Tenant = await runtime.tenants.resolve(slug);
    return { tenant, principal, lastEventId: url.searchParams.get('last_event_id'), expiresAt: expiryOf(token) };
  };

  const open = (ws: WebSocket, who: Awaited<ReturnType<typeof authorize>>) => {
    alive.set(ws, true);
    if (who.expiresAt !== null) expiries.set(ws, who.expiresAt);
    const session = realtime.connect(
      {
        send(frame) {
          if (ws.readyState !== WebSocket.OPEN) return;
          if (ws.bufferedAmount > maxBufferedBytes) {
            log.warn({ tenant: who.tenant.slug, buffered: ws.bufferedAmount }, 'slow websocket client disconnected');
            ws.terminate();
            return;
          }
          ws.send(frame, { binary: false });
        },
        close(code, reason) {
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
        },
      },
      who,
    );
    ws.on('message', (data) => {
      alive.set(ws, true);
      session.receive(data.toString());
    });
    ws.on('pong', () => alive.set(ws, true));
    ws.on('close', () => {
      alive.delete(ws);
      expiries.delete(ws);
      session.end();
    });
    // 'close' follows every error; the listener only keeps an error from being unhandled.
    ws.on('error', (err) => log.debug({ err: err.message }, 'websocket error'));
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match) {
      // Not ours; answer it unless another upgrade handler is there to.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'no WebSocket endpoint at this path');
      return;
    }
    // A client that hangs up while its token is checked must not become an unhandled 'error'.
    socket.on('error', () => {});
    authorize(req, url, match[1]!).then(
      (who) => {
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => open(ws, who));
      },
      (err) => {
        if (err instanceof AppError) return refuse(socket, err.status, err.message);
        log.error({ err }, 'websocket upgrade failed');
        refuse(socket, 503, 'try again later');
      },
    );
  };
  server.on('upgrade', onUpgrade);

  // Protocol pings: a peer that did not answer the last one (or sent anything since) is dead. A socket whose
  // token has expired is closed in the same sweep (4401): the client reconnects with a fresh token and its
  // last event id, and misses nothing.
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [ws, ok] of alive) {
      if (!ok) {
        ws.terminate();
        continue;
      }
      if ((expiries.get(ws) ?? Number.POSITIVE_INFINITY) <= now) {
        ws.close(4401, 'token expired: reconnect with a fresh token and last_event_id');
        expiries.delete(ws);
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, pingEveryMs);
  timer.unref();

  return {
    realtime,
    size: () => realtime.size(),
    async close() {
      clearInterval(timer);
      server.off('upgrade', onUpgrade);
      await realtime.close();
      // Sockets that do not finish the closing handshake promptly are cut.
      const deadline = Date.now() + 1_000;
      while (alive.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of alive.keys()) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** The upgrading client's address (the first X-Forwarded-For hop when a proxy is trusted), as clientAddress. */
function upgradeAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy
    ? String(req.headers['x-forwarded-for'] ?? '')
        .split(',')[0]
        ?.trim()
    : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}
