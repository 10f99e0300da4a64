/** Everything a process shares: built once in main from the config, closed on shutdown. */
import { type Database, migrateRegistry, openDatabase } from '@comms/db';
import { type AuthVerifier, createAuthVerifier } from './auth.js';
import { type AuthFailureLimiter, createAuthFailureLimiter } from './auth-failures.js';
import { createInProcessBus, createRedisBus, DEFAULT_REPLAY_WINDOW, type EventBus } from './bus/index.js';
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
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
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
    authFailures: createAuthFailureLimiter(config.AUTH_FAILURE_LIMIT),
    context(tenant, extra = {}) {
      return {
        db: database.db,
        tenant,
        bus,
        queues,
        secrets,
        media,
        log: extra.log ?? log,
        ...(extra.actor ? { actor: extra.actor } : {}),
      };
    },
    async close() {
      await queues.close();
      await bus.close();
      await runtime.presence.close();
      await database.close();
    },
  };
  return runtime;
}
