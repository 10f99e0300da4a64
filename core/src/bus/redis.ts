/**
 * The event bus across API instances: one Redis stream for every tenant's events.
 *
 * Why one stream read with XREAD rather than pub/sub: every instance reads the stream in id order, so
 * every client sees a tenant's events in the order of their ids, whichever instance published them
 * (pub/sub would deliver two instances' events in arrival order, which can disagree with the ids).
 * The stream ids increase, so they are the event ids; the stream keeps at least REPLAY_WINDOW of history
 * (trimmed by MINID), which is what `?last_event_id=` replays from, on whichever instance a client lands.
 * Ephemeral events (typing) go through pub/sub and are never stored.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  compareEventIds,
  DEFAULT_REPLAY_WINDOW,
  type DomainEvent,
  type EventBus,
  type PublishedEvent,
  type ReplayWindow,
} from './index.js';

const STREAM = 'events';
const EPHEMERAL = 'ephemeral';

const STREAM_ID = /^\d+-\d+$/;

export function createRedisBus(
  redisUrl: string,
  log: Logger,
  options: { prefix?: string; window?: ReplayWindow } = {},
): EventBus {
  const prefix = options.prefix ?? 'comms';
  const windowMs = (options.window ?? DEFAULT_REPLAY_WINDOW).maxAgeMs;
  const key = `${prefix}:${STREAM}`;
  const channel = `${prefix}:${EPHEMERAL}`;
  const writer = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const reader = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const c of [writer, reader, sub]) c.on('error', (err) => log.debug({ err: err.message }, 'redis (bus) error'));
  const handlers = new Set<(event: PublishedEvent) => void>();
  let closed = false;
  const emit = (event: PublishedEvent) => {
    for (const h of handlers) h(event);
  };

  // Live: read the stream from "now" on, in id order.
  let lastId = '$';
  const loop = async () => {
    while (!closed) {
      try {
        const res = (await reader.xread('COUNT', 500, 'BLOCK', 5_000, 'STREAMS', key, lastId)) as
          | [string, [string, string[]][]][]
          | null;
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const payload = fields[1];
            if (payload) emit({ ...(JSON.parse(payload) as DomainEvent), id });
          }
        }
      } catch (err) {
        if (closed) return;
        log.debug({ err: String(err) }, 'bus read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  // Start from the stream's current end so events published before this instance existed are not re-emitted.
  const started = (async () => {
    try {
      const last = (await writer.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
      lastId = last[0]?.[0] ?? '0-0';
    } catch {
      lastId = '$';
    }
    void loop();
  })();

  void sub.subscribe(channel).catch((err) => log.warn({ err: String(err) }, 'bus subscribe failed'));
  sub.on('message', (_c, message) => emit({ ...(JSON.parse(message) as DomainEvent), id: '' }));

  return {
    async publish(event) {
      await started;
      if (event.ephemeral) {
        await writer
          .publish(channel, JSON.stringify(event))
          .catch((err) => log.warn({ err: String(err) }, 'ephemeral event dropped'));
        return;
      }
      // A few tries while Redis blinks; after that the event is logged as lost (the write it describes stands).
      for (let attempt = 1; ; attempt++) {
        try {
          // Exact MINID (not `~`), so the window is what it says and trimmed ids are known to XINFO.
          await writer.xadd(key, 'MINID', String(Date.now() - windowMs), '*', 'e', JSON.stringify(event));
          return;
        } catch (err) {
          if (attempt >= 3) {
            log.warn({ type: event.type, tenant: event.tenant, err: String(err) }, 'event not published');
            return;
          }
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async replay(tenant, afterId) {
      if (!STREAM_ID.test(afterId)) return 'gap';
      const info = (await writer.call('XINFO', 'STREAM', key).catch(() => null)) as unknown[] | null;
      if (info) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
        const lastGenerated = String(fields.get('last-generated-id') ?? '0-0');
        const firstEntry = (fields.get('first-entry') as [string, unknown] | null)?.[0] ?? lastGenerated;
        const trimmed = Number(fields.get('entries-added') ?? 0) > Number(fields.get('length') ?? 0);
        // An id this stream never made, or one older than the window's first entry once entries were trimmed
        // (conservative: a client whose last event was the very last one trimmed resyncs too).
        if (compareEventIds(afterId, lastGenerated) > 0) return 'gap';
        if (trimmed && compareEventIds(afterId, firstEntry) < 0) return 'gap';
      }
      const out: PublishedEvent[] = [];
      let from = `(${afterId}`;
      for (;;) {
        const batch = (await writer.xrange(key, from, '+', 'COUNT', 1000)) as [string, string[]][];
        for (const [id, fields] of batch) {
          const event = JSON.parse(fields[1]!) as DomainEvent;
          if (event.tenant === tenant) out.push({ ...event, id });
        }
        if (batch.length < 1000) break;
        from = `(${batch[batch.length - 1]![0]}`;
      }
      return out;
    },
    async close() {
      closed = true;
      handlers.clear();
      for (const c of [reader, sub, writer]) c.disconnect();
    },
  };
}
