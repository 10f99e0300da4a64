/** The internal event bus: one vocabulary for WebSocket frames and outgoing webhooks (DESIGN §10). */
import { EventEmitter } from 'node:events';
import { z } from 'zod';

export const EventType = z.enum([
  'message_received',
  'message_sent',
  'message_delivered',
  'message_read',
  'message_failed',
  'conversation_created',
  'conversation_updated',
  'conversation_archived',
  'conversation_assigned',
  'conversation_qualified',
  'channel_created',
  'channel_updated',
  'channel_deleted',
  'member_joined',
  'member_left',
  'entry_created',
  'entry_edited',
  'entry_deleted',
  'reaction_added',
  'reaction_removed',
  'typing',
  'read',
  'mention_created',
]);
export type EventType = z.infer<typeof EventType>;

/** An event as services publish it. `channel_id` scopes chat events; inbox events have none. */
export interface DomainEvent {
  type: EventType;
  tenant: string;
  data: Record<string, unknown>;
  /** Chat events: the channel whose members receive it. */
  channelId?: number;
  /** Only these users receive it (direct notices such as `read` of one user's own state). */
  userIds?: string[];
  /** Ephemeral events (typing) are delivered live but never stored for replay. */
  ephemeral?: boolean;
}

/** Orders two event ids: counters (`41`) in the embedded mode, stream ids (`1732437600000-3`) with Redis. */
export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/** An event as subscribers see it: with an id that increases within its tenant. */
export type PublishedEvent = DomainEvent & { id: string };

export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(handler: (event: PublishedEvent) => void): () => void;
  /**
   * The tenant's stored (non-ephemeral) events after `afterId`, oldest first; `gap` when `afterId` is
   * older than the replay window or not an id of this tenant.
   */
  replay(tenant: string, afterId: string): Promise<PublishedEvent[] | 'gap'>;
  close(): Promise<void>;
}

export interface ReplayWindow {
  maxEvents: number;
  maxAgeMs: number;
}

/** DESIGN §10: at least 10 minutes or 10,000 events. */
export const DEFAULT_REPLAY_WINDOW: ReplayWindow = { maxEvents: 10_000, maxAgeMs: 10 * 60_000 };

/**
 * The embedded-mode bus: one process, no Redis. Ids are a per-tenant counter; a ring of recent events
 * per tenant serves reconnecting clients. Several API instances need the Redis bus (not built yet).
 */
export function createInProcessBus(window: ReplayWindow = DEFAULT_REPLAY_WINDOW): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const counters = new Map<string, number>();
  const rings = new Map<string, { at: number; event: PublishedEvent }[]>();
  const evicted = new Map<string, number>();
  return {
    async publish(event) {
      const n = (counters.get(event.tenant) ?? 0) + 1;
      counters.set(event.tenant, n);
      const published: PublishedEvent = { ...event, id: String(n) };
      if (!event.ephemeral) {
        const ring = rings.get(event.tenant) ?? [];
        ring.push({ at: Date.now(), event: published });
        // Keep whichever is larger: the last maxEvents, or everything younger than maxAgeMs.
        while (ring.length > window.maxEvents && Date.now() - ring[0]!.at > window.maxAgeMs)
          evicted.set(event.tenant, Number(ring.shift()!.event.id));
        rings.set(event.tenant, ring);
      }
      emitter.emit('event', published);
    },
    subscribe(handler) {
      emitter.on('event', handler);
      return () => emitter.off('event', handler);
    },
    async replay(tenant, afterId) {
      const after = Number(afterId);
      if (!/^\d+$/.test(afterId) || after > (counters.get(tenant) ?? 0)) return 'gap';
      // Something newer than `after` has left the window: the client cannot be caught up.
      if (after < (evicted.get(tenant) ?? 0)) return 'gap';
      return (rings.get(tenant) ?? []).filter((r) => Number(r.event.id) > after).map((r) => r.event);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

export { createRedisBus } from './redis.js';
