/**
 * The realtime hub of one process: the open sessions, what each may receive, typing, and catch-up
 * (DESIGN §10). Transport-agnostic: the WebSocket server in apps/api authenticates the upgrade and hands
 * each socket over as a `RealtimeTransport`.
 *
 * Catch-up without a gap or a duplicate at the seam: a session is registered with the bus (holding the
 * live events it is sent) before its memberships are read and before the replay is read; then the replay is
 * sent, then the held events whose ids the replay did not already cover. The bus emits a tenant's events in
 * id order, so everything after the seam is newer than the last replayed id.
 */
import { and, eq } from '@comms/db';
import type { Principal } from '../platform/auth.js';
import { compareEventIds, type PublishedEvent } from '../platform/bus/index.js';
import { sendTyping } from '../chat/index.js';
import { AppError } from '../platform/errors.js';
import type { Runtime } from '../platform/runtime.js';
import type { Tenant } from '../platform/tenants.js';
import { admit, type Subscriber } from './delivery.js';
import { type ErrorFrame, parseClientFrame } from './frames.js';

/** Where frames go: one client connection (a WebSocket, in the API). */
export interface RealtimeTransport {
  /** Sends one text frame (UTF-8 JSON). */
  send(frame: Buffer): void;
  close(code: number, reason: string): void;
}

/** The hub's side of one connection. */
export interface RealtimeSession {
  /** A text frame from the client. */
  receive(raw: string): void;
  /** The connection is gone. */
  end(): void;
  /** Settles once the session is live (memberships read, replay sent). */
  ready: Promise<void>;
}

export interface Realtime {
  /** A connection whose token was already checked for this tenant. */
  connect(
    transport: RealtimeTransport,
    who: { tenant: Tenant; principal: Principal; lastEventId?: string | null },
  ): RealtimeSession;
  /** Open sessions in this process. */
  size(): number;
  /** Closes every session (1001) and stops listening to the bus. */
  close(): Promise<void>;
}

export interface RealtimeOptions {
  /** A client's typing frames for one channel are passed on at most this often (the broadcast limit is 2 s). */
  typingEveryMs?: number;
  /** More client frames than this in one second close the socket (1008). */
  maxFramesPerSecond?: number;
  /** How often presence claims are refreshed (the Presence store expires them after 75 s). */
  presenceEveryMs?: number;
}

interface Session extends Subscriber {
  tenantRow: Tenant;
  transport: RealtimeTransport;
  /** Live events held back until the session is live; null once it is. */
  held: PublishedEvent[] | null;
  closed: boolean;
  typingAt: Map<number, number>;
  frameWindow: { second: number; count: number };
}

const RESYNC = Buffer.from(JSON.stringify({ type: 'resync_required' }));
const PONG = Buffer.from(JSON.stringify({ type: 'pong' }));

/** The frame of a published event; ephemeral ones have no id. */
export function encodeEvent(event: PublishedEvent): Buffer {
  return Buffer.from(
    JSON.stringify(
      event.id ? { type: event.type, id: event.id, data: event.data } : { type: event.type, data: event.data },
    ),
  );
}

function errorFrame(code: ErrorFrame['code'], detail: string): Buffer {
  return Buffer.from(JSON.stringify({ type: 'error', code, detail } satisfies ErrorFrame));
}

export function createRealtime(runtime: Runtime, options: RealtimeOptions = {}): Realtime {
  const typingEveryMs = options.typingEveryMs ?? 2_000;
  const maxFramesPerSecond = options.maxFramesPerSecond ?? 50;
  const log = runtime.log.child({ component: 'realtime' });
  const byTenant = new Map<string, Set<Session>>();
  let count = 0;

  // Presence (who is connected, for notifications): sockets per user in this process.
  const presence = new Map<string, { tenant: string; userId: string; sockets: number }>();
  const claim = (tenant: string, userId: string, delta: number) => {
    const key = `${tenant}\n${userId}`;
    const entry = presence.get(key) ?? { tenant, userId, sockets: 0 };
    entry.sockets += delta;
    if (entry.sockets > 0) presence.set(key, entry);
    else presence.delete(key);
    runtime.presence.set(tenant, userId, Math.max(0, entry.sockets)).catch(() => {});
  };
  const refresh = setInterval(() => {
    for (const { tenant, userId, sockets } of presence.values())
      runtime.presence.set(tenant, userId, sockets).catch(() => {});
  }, options.presenceEveryMs ?? 30_000);
  refresh.unref();

  const send = (s: Session, frame: Buffer) => {
    if (!s.closed) s.transport.send(frame);
  };

  const onEvent = (event: PublishedEvent) => {
    const sessions = byTenant.get(event.tenant);
    if (!sessions) return;
    let frame: Buffer | undefined; // encoded once, for however many receive it
    for (const s of sessions) {
      if (s.held) {
        s.held.push(event);
        continue;
      }
      if (!admit(s, event)) continue;
      frame ??= encodeEvent(event);
      send(s, frame);
    }
  };
  const unsubscribe = runtime.bus.subscribe(onEvent, {
    // This process may have missed events: every client reconnects with its last id and is replayed.
    onGap: () => {
      for (const sessions of byTenant.values())
        for (const s of sessions) s.transport.close(1012, 'events were missed: reconnect with last_event_id');
    },
  });

  const remove = (s: Session) => {
    if (s.closed) return;
    s.closed = true;
    s.held = null;
    const sessions = byTenant.get(s.tenant);
    sessions?.delete(s);
    if (sessions?.size === 0) byTenant.delete(s.tenant);
    count -= 1;
    claim(s.tenant, s.principal.userId, -1);
  };

  const loadMemberships = async (tenant: Tenant, userId: string): Promise<number[]> => {
    const { channelMembers: m, channels: c } = tenant.tables;
    const rows = await runtime.database.db
      .select({ id: m.channelId })
      .from(m)
      .innerJoin(c, eq(c.id, m.channelId))
      .where(and(eq(m.userId, userId), eq(c.isArchived, false)));
    return rows.map((r) => r.id);
  };

  const start = async (s: Session, lastEventId: string | null) => {
    for (const id of await loadMemberships(s.tenantRow, s.principal.userId)) s.channels.add(id);
    if (s.closed) return;
    let after: string | null = null;
    if (lastEventId !== null) {
      let missed: PublishedEvent[] | 'gap';
      try {
        missed = await runtime.bus.replay(s.tenant, lastEventId);
      } catch (err) {
        log.warn({ err: String(err), tenant: s.tenant }, 'replay failed; the client resyncs');
        missed = 'gap';
      }
      if (s.closed) return;
      if (missed === 'gap') send(s, RESYNC);
      else {
        after = lastEventId;
        for (const event of missed) {
          if (admit(s, event)) send(s, encodeEvent(event));
          after = event.id;
        }
      }
    }
    // Release what arrived meanwhile, skipping what the replay already covered. No await from here on:
    // nothing can slip between the last held event and the first live one.
    const held = s.held ?? [];
    s.held = null;
    for (const event of held) {
      if (after !== null && event.id && compareEventIds(event.id, after) <= 0) continue;
      if (admit(s, event)) send(s, encodeEvent(event));
    }
  };

  const onTyping = async (s: Session, channelId: number) => {
    if (!s.channels.has(channelId)) return send(s, errorFrame('forbidden', `not a member of channel ${channelId}`));
    // A cheap gate before the database: a client typing away sends many frames, one goes on per period.
    const now = Date.now();
    if (now - (s.typingAt.get(channelId) ?? 0) < typingEveryMs) return;
    s.typingAt.set(channelId, now);
    try {
      // The chat service checks the membership again, applies the shared 2 s limit (REST typing too) and
      // publishes the ephemeral event with `expires_in_ms`.
      await sendTyping(runtime.context(s.tenantRow, { actor: s.principal }), channelId);
    } catch (err) {
      if (err instanceof AppError)
        send(s, errorFrame(err.code === 'not_found' ? 'not_found' : 'forbidden', err.message));
      else {
        log.error({ err, tenant: s.tenant }, 'typing failed');
        send(s, errorFrame('failed', 'typing could not be sent'));
      }
    }
  };

  return {
    connect(transport, who) {
      const s: Session = {
        tenant: who.tenant.slug,
        tenantRow: who.tenant,
        principal: who.principal,
        channels: new Set(),
        transport,
        held: [],
        closed: false,
        typingAt: new Map(),
        frameWindow: { second: 0, count: 0 },
      };
      // Registered (and holding events) before anything is read: see the file comment.
      const sessions = byTenant.get(s.tenant) ?? new Set<Session>();
      byTenant.set(s.tenant, sessions);
      sessions.add(s);
      count += 1;
      claim(s.tenant, s.principal.userId, 1);
      const ready = start(s, who.lastEventId ?? null).catch((err) => {
        log.error({ err, tenant: s.tenant }, 'realtime session could not start');
        transport.close(1011, 'the session could not start; reconnect');
        remove(s);
      });
      return {
        ready,
        end: () => remove(s),
        receive(raw) {
          if (s.closed) return;
          const second = Math.floor(Date.now() / 1000);
          if (s.frameWindow.second !== second) s.frameWindow = { second, count: 0 };
          if (++s.frameWindow.count > maxFramesPerSecond) {
            transport.close(1008, 'too many frames');
            return remove(s);
          }
          const parsed = parseClientFrame(raw);
          if (!parsed.ok) return send(s, errorFrame('bad_frame', parsed.detail));
          if (parsed.frame.type === 'ping') return send(s, PONG);
          const channelId = parsed.frame.channel_id;
          void ready.then(() => onTyping(s, channelId));
        },
      };
    },
    size: () => count,
    async close() {
      clearInterval(refresh);
      unsubscribe();
      for (const sessions of [...byTenant.values()])
        for (const s of [...sessions]) {
          s.transport.close(1001, 'server shutting down');
          remove(s);
        }
    },
  };
}
