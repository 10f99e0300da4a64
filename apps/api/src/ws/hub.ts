/**
 * The WebSocket endpoint (DESIGN §10): GET /api/v1/tenants/{tenant}/communications/ws. The token is checked at
 * the upgrade; a client receives its channels' events, events addressed to it, and the tenant's inbox events;
 * `?last_event_id=` replays what it missed first (or `resync_required`). One process: events reach the
 * sockets of this instance through the runtime's bus.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AppError,
  canActOnTenant,
  compareEventIds,
  type PublishedEvent,
  type Principal,
  type Runtime,
  sendTyping,
  type Tenant,
} from '@comms/core';
import { eq } from '@comms/db';
import { WebSocket, WebSocketServer } from 'ws';
import { bearerToken } from '../middleware/auth.js';

const PATH = /^\/api\/v1\/tenants\/([^/]+)\/communications\/ws$/;
const PING_EVERY_MS = 30_000;

interface Client {
  /** Live events held back while the replay is read; null once the client is live. */
  pending: PublishedEvent[] | null;
  socket: WebSocket;
  tenant: Tenant;
  principal: Principal;
  channels: Set<number>;
  alive: boolean;
}

function refuse(socket: Duplex, status: number, message: string) {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Bad Request';
  const body = JSON.stringify({ type: 'about:blank', title: reason, status, detail: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${status === 401 ? 'WWW-Authenticate: Bearer\r\n' : ''}Connection: close\r\n\r\n${body}`,
  );
}

function send(client: Client, frame: unknown) {
  if (client.socket.readyState === WebSocket.OPEN) client.socket.send(JSON.stringify(frame));
}

export interface RealtimeHub {
  /** How many sockets are open. */
  size(): number;
  close(): Promise<void>;
}

export function attachRealtime(server: Server, runtime: Runtime): RealtimeHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Set<Client>();

  // Presence: how many sockets each user has here, claimed in the shared presence store.
  const socketsOf = (c: Client) =>
    [...clients].filter((x) => x.tenant.slug === c.tenant.slug && x.principal.userId === c.principal.userId).length;
  const claim = (c: Client) => runtime.presence.set(c.tenant.slug, c.principal.userId, socketsOf(c)).catch(() => {});

  const mayReceive = (client: Client, event: PublishedEvent): boolean => {
    if (event.tenant !== client.tenant.slug) return false;
    if (event.userIds && !event.userIds.includes(client.principal.userId)) return false;
    if (event.channelId !== undefined) return client.channels.has(event.channelId);
    return true; // inbox events: every user of the tenant
  };

  const unsubscribe = runtime.bus.subscribe((event) => {
    for (const client of clients) {
      if (client.tenant.slug !== event.tenant) continue;
      const data = event.data as { user_id?: string; channel_id?: number };
      // Membership changes take effect on open sockets at once.
      if (event.type === 'member_joined' && data.user_id === client.principal.userId && event.channelId)
        client.channels.add(event.channelId);
      const deliver = mayReceive(client, event);
      if (event.type === 'member_left' && data.user_id === client.principal.userId && event.channelId)
        client.channels.delete(event.channelId);
      if (event.type === 'channel_deleted' && event.channelId) client.channels.delete(event.channelId);
      if (!deliver) continue;
      if (client.pending) client.pending.push(event);
      else send(client, { type: event.type, id: event.id, data: event.data });
    }
  });

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = url.pathname.match(PATH);
    if (!match) return; // not ours: other upgrade handlers may take it
    try {
      const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token');
      if (!token) throw new AppError('unauthorized', 'a token is required (Authorization: Bearer, or ?token=)');
      const principal = await runtime.auth.verify(token);
      const slug = decodeURIComponent(match[1]!);
      if (!canActOnTenant(principal, slug))
        throw new AppError('forbidden', `this token may not act on tenant '${slug.slice(0, 50)}'`);
      const tenant = await runtime.tenants.resolve(slug);
      const { channelMembers: m } = tenant.tables;
      const rows = await runtime.database.db
        .select({ channelId: m.channelId })
        .from(m)
        .where(eq(m.userId, principal.userId));
      wss.handleUpgrade(req, socket, head, async (ws) => {
        const lastEventId = url.searchParams.get('last_event_id');
        const client: Client = {
          pending: lastEventId !== null ? [] : null,
          socket: ws,
          tenant,
          principal,
          channels: new Set(rows.map((r) => r.channelId)),
          alive: true,
        };
        // Subscribe first (holding live events back), then replay, then release what was held that the
        // replay did not already cover: no gap and no duplicate at the seam, on whichever instance.
        clients.add(client);
        void claim(client);
        ws.on('pong', () => {
          client.alive = true;
        });
        ws.on('message', (raw) => onFrame(client, raw.toString()));
        const gone = () => {
          if (clients.delete(client)) void claim(client);
        };
        ws.on('close', gone);
        ws.on('error', gone);
        if (lastEventId === null) return;
        let lastSent = lastEventId;
        try {
          const missed = await runtime.bus.replay(tenant.slug, lastEventId);
          if (missed === 'gap') send(client, { type: 'resync_required' });
          else
            for (const event of missed) {
              if (!mayReceive(client, event)) continue;
              send(client, { type: event.type, id: event.id, data: event.data });
              lastSent = event.id;
            }
        } catch {
          send(client, { type: 'resync_required' });
        }
        const held = client.pending ?? [];
        client.pending = null;
        for (const event of held)
          if (!event.id || compareEventIds(event.id, lastSent) > 0)
            send(client, { type: event.type, id: event.id, data: event.data });
      });
    } catch (err) {
      if (err instanceof AppError) refuse(socket, err.status, err.message);
      else {
        runtime.log.error({ err }, 'websocket upgrade failed');
        refuse(socket, 503, 'try again later');
      }
    }
  };

  const onFrame = async (client: Client, raw: string) => {
    let frame: { type?: unknown; channel_id?: unknown };
    try {
      frame = JSON.parse(raw);
    } catch {
      return send(client, { type: 'error', detail: 'frames are JSON objects' });
    }
    if (frame.type === 'ping') return send(client, { type: 'pong' });
    if (frame.type === 'typing' && Number.isSafeInteger(frame.channel_id)) {
      try {
        await sendTyping(runtime.context(client.tenant, { actor: client.principal }), frame.channel_id as number);
      } catch (err) {
        send(client, { type: 'error', detail: err instanceof AppError ? err.message : 'typing failed' });
      }
      return;
    }
    send(client, {
      type: 'error',
      detail: 'unknown frame: expected {"type":"ping"} or {"type":"typing","channel_id":…}',
    });
  };

  server.on('upgrade', onUpgrade);
  // Dead peers (no pong since the last ping) are closed.
  const timer = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate();
        clients.delete(client);
        void claim(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
      void claim(client);
    }
  }, PING_EVERY_MS);
  timer.unref();

  return {
    size: () => clients.size,
    async close() {
      clearInterval(timer);
      unsubscribe();
      server.off('upgrade', onUpgrade);
      for (const client of clients) client.socket.close(1001, 'server shutting down');
      wss.close();
    },
  };
}
