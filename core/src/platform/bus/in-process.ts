/** The embedded-mode event bus: one process, no Redis, a replay ring per tenant. */
import type { Logger } from '../logger.js';
import {
  compareEventIds,
  DEFAULT_REPLAY_WINDOW,
  EVENT_ID,
  type EventBus,
  emitTo,
  type PublishedEvent,
  type ReplayWindow,
} from './contract.js';

interface Ring {
  events: PublishedEvent[];
  at: number[];
  /** Index of the oldest retained event (the array is compacted now and then). */
  head: number;
  seq: number;
  /** The newest id that left the window: replaying from before it would skip events. */
  floor: string;
}

/**
 * The embedded-mode bus: one process, no Redis. Ids are `<boot ms>-<per-tenant counter>`, so an id from
 * before a restart is recognized as older than anything held (the client resyncs) instead of being taken
 * for a position in the new sequence. A ring per tenant holds the replay window.
 */
export function createInProcessBus(window: ReplayWindow = DEFAULT_REPLAY_WINDOW, log?: Logger): EventBus {
  const handlers = new Set<(event: PublishedEvent) => void>();
  const ceiling = window.ceiling ?? DEFAULT_REPLAY_WINDOW.ceiling;
  const boot = Date.now();
  const rings = new Map<string, Ring>();
  const ringOf = (tenant: string): Ring => {
    let ring = rings.get(tenant);
    if (!ring) {
      ring = { events: [], at: [], head: 0, seq: 0, floor: `${boot}-0` };
      rings.set(tenant, ring);
    }
    return ring;
  };
  return {
    async publish(event) {
      if (event.ephemeral) {
        const published = { ...event, id: '' };
        emitTo(handlers, published, log);
        return published;
      }
      const ring = ringOf(event.tenant);
      ring.seq += 1;
      const published: PublishedEvent = { ...event, id: `${boot}-${ring.seq}` };
      const now = Date.now();
      ring.events.push(published);
      ring.at.push(now);
      for (;;) {
        const size = ring.events.length - ring.head;
        const expired = size > window.maxEvents && now - ring.at[ring.head]! >= window.maxAgeMs;
        if (!expired && size <= ceiling) break;
        ring.floor = ring.events[ring.head]!.id;
        ring.head += 1;
      }
      if (ring.head > 1024 && ring.head * 2 > ring.events.length) {
        ring.events = ring.events.slice(ring.head);
        ring.at = ring.at.slice(ring.head);
        ring.head = 0;
      }
      emitTo(handlers, published, log);
      return published;
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async replay(tenant, afterId) {
      if (!EVENT_ID.test(afterId)) return 'gap';
      const ring = ringOf(tenant);
      if (compareEventIds(afterId, `${boot}-${ring.seq}`) > 0) return 'gap';
      if (compareEventIds(afterId, ring.floor) < 0) return 'gap';
      // Binary search for the first retained event after `afterId`.
      let lo = ring.head;
      let hi = ring.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareEventIds(ring.events[mid]!.id, afterId) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return ring.events.slice(lo);
    },
    async close() {
      handlers.clear();
    },
  };
}
