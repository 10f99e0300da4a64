/** Everything a process shares: built once in main from the config, closed on shutdown. */
import { type Database, migrateRegistry, openDatabase } from '@comms/db';
import { type AuthVerifier, createAuthVerifier } from './auth.js';
import { Redis } from 'ioredis';
import { type AuthFailureLimiter, createAuthFailureLimiter, createRedisAuthFailureLimiter } from './auth-failures.js';
import { createLocalRateLimiter, createRedisRateLimiter, type RateLimiter } from './limits.js';
import { type SingletonJob, scheduleSingleton } from './singleton.js';
import { createInProcessBus, createRedisBus, DEFAULT_REPLAY_WINDOW, type EventBus } from './bus/index.js';
import { joinClusterMetrics } from './cluster.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createMediaService } from './media/service.js';
import type { MediaBackend, MediaService } from './media/store.js';
import { createBullQueues } from './queue/bullmq.js';
import { createInProcessQueues } from './queue/in-process.js';
import type { Queues } from './queue/index.js';
import { createSecretBox, type SecretBox } from './secrets.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createTenantResolver, type Tenant, type TenantResolver } from './tenants.js';
import type { TenantContext } from './context.js';
import type { Principal } from './auth.js';
import { outboxBus } from './outbox.js';
import { createInProcessPresence, createRedisPresence, type Presence } from './presence.js';

export interface Runtime {
  config: Config;
  log: Logger;
  database: Database;
  bus: EventBus;
  queues: Queues;
  secrets: SecretBox;
  /** The media store (local files or the File Service) and its limits. */
  media: MediaService;
  tenants: TenantResolver;
  auth: AuthVerifier;
  /** Refused tokens per client address (AUTH_FAILURE_LIMIT a minute), for the API and the WebSocket upgrade. */
  authFailures: AuthFailureLimiter;
  /** Per-account send rates, shared by every process and host through Redis (in this process when embedded). */
  rateLimits: RateLimiter;
  /** A periodic job that runs once per period across every process and host (see singleton.ts). */
  singleton(name: string, everyMs: number, job: () => Promise<unknown>): SingletonJob;
  /** Prometheus registry of this process: /metrics serves it, the worker adds its send latency. */
  metrics: Registry;
  /** Who is connected over WebSocket (notifications skip them). */
  presence: Presence;
  /** The context a service call runs in, for one tenant. */
  context(tenant: Tenant, extra?: { actor?: Principal; log?: Logger }): TenantContext;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  log?: Logger;
  bus?: EventBus;
  queues?: Queues;
  /** A media backend other than the configured one. */
  mediaBackend?: MediaBackend;
}

export async function createRuntime(config: Config, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const log = overrides.log ?? createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.PGLITE_DIR,
    poolSize: config.DB_POOL_SIZE,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
  });
  await migrateRegistry(database.db);
  // Realtime events: a stream per tenant in Redis when there is one (ids and replay shared by every
  // instance), else one process's bus. Either keeps at least 10,000 events and EVENT_REPLAY_WINDOW_MS.
  const replayWindow = { ...DEFAULT_REPLAY_WINDOW, maxAgeMs: config.EVENT_REPLAY_WINDOW_MS };
  const bus =
    overrides.bus ??
    (config.REDIS_URL
      ? createRedisBus(config.REDIS_URL, log, { prefix: config.QUEUE_PREFIX, window: replayWindow })
      : createInProcessBus(replayWindow, log));
  const queues =
    overrides.queues ??
    (config.REDIS_URL
      ? createBullQueues(config.REDIS_URL, log, { prefix: config.QUEUE_PREFIX })
      : createInProcessQueues(log));
  const secrets = createSecretBox(config.ENCRYPTION_KEY);
  const media = createMediaService(config, overrides.mediaBackend);
  // One connection for what processes coordinate on (rate limits, locks), one for the auth-failure channel.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', (err) => log.debug({ err: err.message }, 'redis (coordination) error'));
  const subscriber = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }) : null;
  subscriber?.on('error', (err) => log.debug({ err: err.message }, 'redis (coordination subscriber) error'));
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  joinClusterMetrics(metrics);
  const runtime: Runtime = {
    config,
    log,
    database,
    bus,
    queues,
    secrets,
    media,
    metrics,
    presence: config.REDIS_URL ? createRedisPresence(config.REDIS_URL, config.QUEUE_PREFIX) : createInProcessPresence(),
    tenants: createTenantResolver(database.db),
    auth: createAuthVerifier({
      jwtSecret: config.JWT_SECRET,
      jwksUrl: config.JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    }),
    authFailures:
      redis && subscriber
        ? createRedisAuthFailureLimiter(redis, subscriber, {
            limit: config.AUTH_FAILURE_LIMIT,
            prefix: config.QUEUE_PREFIX,
          })
        : createAuthFailureLimiter(config.AUTH_FAILURE_LIMIT),
    rateLimits: redis ? createRedisRateLimiter(redis, config.QUEUE_PREFIX) : createLocalRateLimiter(),
    singleton(name, everyMs, job) {
      return scheduleSingleton({ name, everyMs, log, redis, prefix: config.QUEUE_PREFIX, metrics }, job);
    },
    context(tenant, extra = {}) {
      const ctxLog = extra.log ?? log;
      return {
        db: database.db,
        tenant,
        // Events also become outgoing webhook deliveries (the outbox), unless written in their transaction.
        bus: outboxBus(bus, { db: database.db, tenant, queues, log: ctxLog }),
        queues,
        secrets,
        media,
        log: ctxLog,
        ...(extra.actor ? { actor: extra.actor } : {}),
      };
    },
    async close() {
      await queues.close();
      await bus.close();
      await runtime.presence.close();
      await runtime.authFailures.close();
      redis?.disconnect();
      await database.close();
    },
  };
  return runtime;
}
