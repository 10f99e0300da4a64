/**
 * The event bus across API instances, on Redis.
 *
 * Ids and replay: one stream per tenant (`<prefix>:rt:events:<tenant>`); the stream ids are the event ids, so
 * they increase within a tenant whichever instance publishes, and `?last_event_id=` replays from the stream
 * on whichever instance a client lands. The window (DESIGN §10) is kept exactly by the publish script: an
 * entry is trimmed only when it is older than `maxAgeMs` and not among the last `maxEvents` (or past the
 * memory ceiling), and the newest trimmed id is recorded (`…:floor`) so a replay from before it is known to
 * have a hole. XADD's own `MAXLEN ~`/`MINID` cannot express "whichever keeps more", and XTRIM does not record
 * what it removed (`max-deleted-entry-id` only follows XDEL).
 *
 * Live fan-out: the same script appends the event to one shared live stream (`<prefix>:rt:live`, a few
 * thousand entries), which every instance reads with XREAD BLOCK. Why a stream rather than pub/sub: a
 * subscriber that loses its connection silently misses what was published meanwhile, while a reader
 * resumes from the last id it saw, so a Redis blip costs no event; and when the outage outlasts the live
 * buffer the reader can tell (its last id was trimmed) and subscribers are told to resynchronize. Because
 * both appends happen in one script, every instance sees a tenant's events in id order, which the
 * WebSocket's replay seam relies on. One shared stream rather than an XREAD over every tenant's stream:
 * the set of tenants changes, and a blocking read cannot be widened without interrupting it.
 *
 * Ephemeral events (typing) go over pub/sub only: never stored, and a lost one is harmless.
 *
 * Publishing while Redis is away: events wait in an ordered in-memory queue and are retried with backoff
 * for `retryForMs` (a bounded retry); `publish` itself waits at most `publishWaitMs`, so an API request is
 * never held long. An event still unstored after `retryForMs`, or arriving when `maxQueued` are waiting, is
 * logged as lost (type, tenant, event key; never the body). A script run whose reply was lost is retried
 * safely: each event carries a key the script remembers for a few minutes, so it is stored once.
 * (Redis Cluster would need the keys of one script in one slot; this targets a single Redis or a replica set.)
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  compareEventIds,
  DEFAULT_REPLAY_WINDOW,
  type DomainEvent,
  EVENT_ID,
  type EventBus,
  emitTo,
  type PublishedEvent,
  type ReplayWindow,
} from './contract.js';

export interface RedisBusOptions {
  /** Key prefix (the deployment's QUEUE_PREFIX), so deployments and test runs sharing a Redis stay apart. */
  prefix?: string;
  window?: ReplayWindow;
  /** How long `publish` waits for Redis before resolving null (the event stays queued). */
  publishWaitMs?: number;
  /** How long an event is retried while Redis is away before it is logged as lost. */
  retryForMs?: number;
  /** How many events may wait for Redis at once. */
  maxQueued?: number;
  /** Entries kept in the shared live stream: how far an instance may fall behind before it must resync. */
  liveBuffer?: number;
}

// KEYS: tenant stream, its floor, the event's dedupe key, the live stream.
// ARGV: payload, maxEvents, maxAgeMs, ceiling, dedupe ttl (ms), live buffer length.
const PUBLISH_SCRIPT = `
local prior = redis.call('GET', KEYS[3])
if prior then return prior end
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
redis.call('SET', KEYS[3], id, 'PX', ARGV[5])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'i', id, 'e', ARGV[1])
local len = redis.call('XLEN', KEYS[1])
local excess = len - tonumber(ARGV[2])
local over = len - tonumber(ARGV[4])
if excess > 0 then
  local ms = tonumber(string.match(id, '^(%d+)-'))
  local cutoff = string.format('%d', math.max(0, ms - tonumber(ARGV[3])))
  local last = nil
  local n = 0
  local old = redis.call('XRANGE', KEYS[1], '-', cutoff, 'COUNT', math.min(excess, 1000))
  if #old > 0 then n = #old; last = old[#old][1] end
  if over > n then
    local more = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', math.min(over, 1000))
    if #more > 0 then last = more[#more][1] end
  end
  if last then
    local lms, lseq = string.match(last, '^(%d+)-(%d+)$')
    redis.call('XTRIM', KEYS[1], 'MINID', lms .. '-' .. string.format('%d', tonumber(lseq) + 1))
    redis.call('SET', KEYS[2], last)
  end
end
return id
`;

const READ_BATCH = 500;
const DEDUPE_TTL_MS = 10 * 60_000;

type ScriptRedis = Redis & { commsPublish(...args: (string | number)[]): Promise<string> };

interface Pending {
  event: DomainEvent;
  key: string;
  payload: string;
  since: number;
  done(event: PublishedEvent | null): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The Redis bus; see the file comment for the design. */
export function createRedisBus(redisUrl: string, log: Logger, options: RedisBusOptions = {}): EventBus {
  const prefix = `${options.prefix ?? 'comms'}:rt`;
  const window = { ...DEFAULT_REPLAY_WINDOW, ...options.window };
  const ceiling = Math.max(window.ceiling, window.maxEvents);
  const publishWaitMs = options.publishWaitMs ?? 2_000;
  const retryForMs = options.retryForMs ?? 30_000;
  const maxQueued = options.maxQueued ?? 10_000;
  const liveBuffer = options.liveBuffer ?? 10_000;
  const streamKey = (tenant: string) => `${prefix}:events:${tenant}`;
  const liveKey = `${prefix}:live`;
  const typingChannel = `${prefix}:ephemeral`;

  // Three connections: commands, the blocking live read, and the ephemeral subscription.
  // Auto-pipelining: the events of one webhook or request leave in one write.
  const writer = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
    enableAutoPipelining: true,
  }) as ScriptRedis;
  // The reading side connects when the first subscriber arrives: a process nobody subscribes in (the gateway,
  // the worker) publishes only, and reading every event of every tenant there would be work for no one. Live
  // delivery starts at that subscriber's position; what was published before it is for replay (EventBus).
  const reader = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  const sub = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  writer.defineCommand('commsPublish', { numberOfKeys: 4, lua: PUBLISH_SCRIPT });
  // ioredis reconnects by itself; an 'error' without a listener would crash the process. One line per outage.
  let down = false;
  for (const [name, c] of [
    ['writer', writer],
    ['reader', reader],
    ['subscriber', sub],
  ] as const) {
    c.on('error', (err: Error) => {
      if (!down && !closed) log.warn({ err: err.message, connection: name }, 'redis (event bus) unavailable');
      down = true;
    });
    c.on('ready', () => {
      if (down) log.info({ connection: name }, 'redis (event bus) reachable again');
      down = false;
    });
  }

  const handlers = new Set<(event: PublishedEvent) => void>();
  const gapHandlers = new Set<() => void>();
  let closed = false;

  // --- live: read the shared stream from our start on, in order -------------------------------------------
  let liveId: string | null = null;
  let suspect = false; // the connection dropped or we fell behind: check that nothing was trimmed past us
  reader.on('close', () => {
    suspect = true;
  });
  let isStarted = false;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => {
    markStarted = () => {
      isStarted = true;
      r();
    };
  });
  const readLoop = async () => {
    while (!closed) {
      try {
        if (liveId === null) {
          // A marker entry gives this instance a position that exists in the stream (also when it is new).
          liveId = (await reader.xadd(liveKey, 'MAXLEN', '~', liveBuffer, '*', 'hello', '1')) as string;
          markStarted();
        }
        const res = (await reader.xread('COUNT', READ_BATCH, 'BLOCK', 5_000, 'STREAMS', liveKey, liveId)) as
          | [string, [string, string[]][]][]
          | null;
        const entries = res?.[0]?.[1] ?? [];
        if (suspect || entries.length === READ_BATCH) {
          suspect = false;
          // Trimming only removes the oldest entries: if our position is still there, nothing after it went.
          const still = await reader.xrange(liveKey, liveId, liveId);
          if (still.length === 0) {
            log.warn('live events were trimmed before this instance read them; subscribers resynchronize');
            for (const onGap of gapHandlers) onGap();
          }
        }
        for (const [entryId, fields] of entries) {
          liveId = entryId;
          if (fields[0] !== 'i' || fields[2] !== 'e') continue; // a marker
          let event: DomainEvent;
          try {
            event = JSON.parse(fields[3]!) as DomainEvent;
          } catch {
            continue;
          }
          emitTo(handlers, { ...event, id: fields[1]! }, log);
        }
      } catch (err) {
        if (closed) return;
        suspect = true;
        log.debug({ err: String(err) }, 'live event read failed; retrying');
        await sleep(500);
      }
    }
  };
  let reading = false;
  const startReading = () => {
    if (reading || closed) return;
    reading = true;
    void readLoop();
    sub.on('message', (_channel: string, message: string) => {
      try {
        emitTo(handlers, { ...(JSON.parse(message) as DomainEvent), id: '' }, log);
      } catch {}
    });
    sub.subscribe(typingChannel).catch((err: Error) => log.warn({ err: err.message }, 'ephemeral subscribe failed'));
  };

  // --- publishing: an ordered queue retried while Redis is away ----------------------------------------------
  let queue: Pending[] = [];
  let pumping = false;
  const lost = (p: Pending, why: string) => {
    log.error({ type: p.event.type, tenant: p.event.tenant, event_key: p.key }, `event lost: ${why}`);
    p.done(null);
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    let failures = 0;
    try {
      while (queue.length) {
        const now = Date.now();
        const expired = queue.filter((p) => now - p.since > retryForMs);
        if (expired.length) {
          queue = queue.filter((p) => now - p.since <= retryForMs);
          for (const p of expired) lost(p, `Redis unavailable for ${retryForMs} ms`);
          if (!queue.length) break;
        }
        // Once something here subscribes, our own events must not be published before this instance's live
        // position exists, or its subscribers would miss them.
        if (reading && !isStarted) {
          await Promise.race([started, sleep(250)]);
          continue;
        }
        const batch = queue.slice(0, 200);
        const results = await Promise.allSettled(
          batch.map((p) =>
            writer.commsPublish(
              streamKey(p.event.tenant),
              `${streamKey(p.event.tenant)}:floor`,
              `${streamKey(p.event.tenant)}:sent:${p.key}`,
              liveKey,
              p.payload,
              window.maxEvents,
              window.maxAgeMs,
              ceiling,
              DEDUPE_TTL_MS,
              liveBuffer,
            ),
          ),
        );
        const stored = new Set<Pending>();
        let lastError: unknown;
        results.forEach((r, i) => {
          const p = batch[i]!;
          if (r.status === 'fulfilled') {
            stored.add(p);
            p.done({ ...p.event, id: r.value });
          } else lastError = r.reason;
        });
        if (stored.size) queue = queue.filter((p) => !stored.has(p));
        if (lastError === undefined) {
          if (failures) log.info({ waiting: queue.length }, 'events are being stored again');
          failures = 0;
          continue;
        }
        if (failures++ === 0)
          log.warn({ err: String(lastError), waiting: queue.length }, 'events cannot be stored yet; retrying');
        await sleep(Math.min(2_000, 50 * 2 ** failures));
      }
    } finally {
      pumping = false;
    }
  };

  return {
    async publish(event) {
      if (event.ephemeral) {
        try {
          await writer.publish(typingChannel, JSON.stringify(event));
          return { ...event, id: '' };
        } catch (err) {
          log.debug({ err: String(err), type: event.type }, 'ephemeral event dropped');
          return null;
        }
      }
      const key = randomUUID();
      if (closed || queue.length >= maxQueued) {
        log.error(
          { type: event.type, tenant: event.tenant, event_key: key },
          closed ? 'event lost: the bus is closed' : `event lost: ${maxQueued} events already wait for Redis`,
        );
        return null;
      }
      return new Promise<PublishedEvent | null>((resolve) => {
        let answered = false;
        const timer = setTimeout(() => {
          answered = true;
          log.warn({ type: event.type, tenant: event.tenant, event_key: key }, 'event not stored yet; retrying');
          resolve(null);
        }, publishWaitMs);
        queue.push({
          event,
          key,
          payload: JSON.stringify(event),
          since: Date.now(),
          done(published) {
            if (answered) {
              if (published) log.info({ type: event.type, tenant: event.tenant, event_key: key }, 'event stored late');
              return;
            }
            answered = true;
            clearTimeout(timer);
            resolve(published);
          },
        });
        void pump();
      });
    },

    subscribe(handler, opts) {
      handlers.add(handler);
      startReading();
      const onGap = opts?.onGap;
      if (onGap) gapHandlers.add(onGap);
      return () => {
        handlers.delete(handler);
        if (onGap) gapHandlers.delete(onGap);
      };
    },

    async replay(tenant, afterId) {
      if (!EVENT_ID.test(afterId)) return 'gap';
      const key = streamKey(tenant);
      const [last, floor] = (await writer
        .multi()
        .xrevrange(key, '+', '-', 'COUNT', 1)
        .get(`${key}:floor`)
        .exec()
        .then((r) => (r ?? []).map((x) => x[1]))) as [[string, string[]][], string | null];
      const newest = last[0]?.[0];
      // Nothing stored (no event yet, or Redis lost its data), an id we never gave, or one before the window.
      if (!newest || compareEventIds(afterId, newest) > 0) return 'gap';
      if (floor && compareEventIds(afterId, floor) < 0) return 'gap';
      const out: PublishedEvent[] = [];
      let from = `(${afterId}`;
      for (;;) {
        const batch = (await writer.xrange(key, from, '+', 'COUNT', 1000)) as [string, string[]][];
        for (const [id, fields] of batch) out.push({ ...(JSON.parse(fields[1]!) as DomainEvent), id });
        if (batch.length < 1000) break;
        from = `(${batch[batch.length - 1]![0]}`;
      }
      // Trimming may have run while we read: if it reached past `afterId`, what we read has a hole.
      const floorAfter = await writer.get(`${key}:floor`);
      if (floorAfter && compareEventIds(afterId, floorAfter) < 0) return 'gap';
      return out;
    },

    async close() {
      // Give what is queued a moment to be stored before the connections go.
      const until = Date.now() + 2_000;
      while (queue.length && Date.now() < until) await sleep(20);
      closed = true;
      for (const p of queue.splice(0)) lost(p, 'the bus closed before Redis stored it');
      handlers.clear();
      gapHandlers.clear();
      for (const c of [reader, sub, writer]) c.disconnect();
    },
  };
}
