/**
 * Configuration: read from the environment once, in each process's main, and passed down.
 * No other module reads process.env.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789abcdef';
// 32 zero-ish bytes, base64: only ever used outside production.
const DEV_ENCRYPTION_KEY = Buffer.from('dev-only-encryption-key-32-bytes').toString('base64');

const optionalUrl = z.url().optional();
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** A count of processes: a positive integer, or `auto` for one per core the host makes available. */
const processCount = z.preprocess(
  emptyAsUndefined,
  z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(256)], {
      message: 'must be a positive integer or auto',
    })
    .default(1)
    .transform((v) => (v === 'auto' ? availableParallelism() : v)),
);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  REDIS_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  PGLITE_DIR: z.string().default('./.data/pglite'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8004),
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  JWKS_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().optional()),
  ENCRYPTION_KEY: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
      .optional(),
  ),
  PUBLIC_BASE_URL: z.url().default('http://localhost:8003'),
  WHATSAPP_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  TWILIO_ACCOUNT_SID: z.preprocess(emptyAsUndefined, z.string().optional()),
  TWILIO_AUTH_TOKEN: z.preprocess(emptyAsUndefined, z.string().optional()),
  SENDGRID_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  WHATSAPP_API_URL: z.url().default('https://graph.facebook.com/v21.0'),
  MESSENGER_API_URL: z.url().default('https://graph.facebook.com/v21.0'),
  TWILIO_API_URL: z.url().default('https://api.twilio.com'),
  SENDGRID_API_URL: z.url().default('https://api.sendgrid.com'),
  NOTIFICATION_SERVICE_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json`, `pretty`, or `auto`: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default('auto'),
  /** Largest webhook body accepted (bytes); larger ones get 413. */
  WEBHOOK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Largest API request body (bytes). */
  API_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** A query without an answer this long fails (503) and its connection is closed; 0 turns it off. */
  DB_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** A request, body included, not received within this is answered 408 (the gateway faces the internet). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** The request line and headers must arrive within this, else 408. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(10_000),
  /** How long realtime events stay replayable (`?last_event_id=`); DESIGN §10 asks for at least 10 minutes. */
  EVENT_REPLAY_WINDOW_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /**
   * The sandbox transport (development only): replies through sandbox channel accounts (the simulator's) are not
   * sent to the provider; the worker answers like the provider and plays its signed status webhooks back through
   * the gateway. On by default only on the embedded defaults (no DATABASE_URL, no REDIS_URL); refused in production.
   */
  SANDBOX_TRANSPORT: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  ),
  /** The sandbox's pause before each status it plays back (sent → delivered → read), in ms. */
  SANDBOX_STATUS_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** BullMQ key prefix: separate deployments (or test runs) sharing one Redis keep their queues apart. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]{1,50}$/)
    .default('comms'),
  /** Refused tokens one client address may present per minute; past it, its requests get 429 for the minute. */
  AUTH_FAILURE_LIMIT: z.coerce.number().int().positive().default(20),
  /** Processes per host for the API (`start:api`, and `npm start`'s HTTP processes), sharing one port. */
  API_PROCESSES: processCount,
  /** Processes per host for the gateway alone (`start:gateway`), sharing GATEWAY_PORT. */
  GATEWAY_PROCESSES: processCount,
  /** Worker processes per host (`start:worker`, and `npm start`'s worker processes). */
  WORKER_PROCESSES: processCount,
  /** How often the pending sweeper runs (once per period across every worker process and host). */
  PENDING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** Behind a reverse proxy: the client address is the first of X-Forwarded-For (else the socket's peer). */
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Omit<Env, 'JWT_SECRET' | 'ENCRYPTION_KEY' | 'SANDBOX_TRANSPORT'> {
  production: boolean;
  JWT_SECRET: string | undefined;
  ENCRYPTION_KEY: string;
  /** Whether the sandbox transport serves sandbox channel accounts (never in production). */
  SANDBOX_TRANSPORT: boolean;
  /** Human-readable notes about embedded defaults in use; main prints them as warnings. */
  warnings: string[];
}

/** Thrown when the environment is unusable; its message is the one line to print. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment. Throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const warnings: string[] = [];
  if (production) {
    // The sandbox fakes providers' answers and statuses: a production service must never do that.
    if (e.SANDBOX_TRANSPORT)
      throw new ConfigError(
        'invalid configuration: SANDBOX_TRANSPORT cannot be on in production (NODE_ENV=production): it fakes the providers',
      );
    if (!e.JWT_SECRET && !e.JWKS_URL)
      throw new ConfigError('missing configuration: JWT_SECRET or JWKS_URL is required in production');
    if (!e.ENCRYPTION_KEY) throw new ConfigError('missing configuration: ENCRYPTION_KEY is required in production');
    if (!e.DATABASE_URL) throw new ConfigError('missing configuration: DATABASE_URL is required in production');
  } else {
    if (!e.JWT_SECRET && !e.JWKS_URL) warnings.push('JWT_SECRET is not set: using the development secret');
    if (!e.ENCRYPTION_KEY) warnings.push('ENCRYPTION_KEY is not set: using the development key');
    if (!e.DATABASE_URL)
      warnings.push(`DATABASE_URL is not set: using the embedded PGlite database in ${e.PGLITE_DIR}`);
    if (!e.REDIS_URL) warnings.push('REDIS_URL is not set: using the in-process queue and event bus');
  }
  return {
    ...e,
    production,
    JWT_SECRET: e.JWT_SECRET ?? (e.JWKS_URL ? undefined : DEV_JWT_SECRET),
    ENCRYPTION_KEY: e.ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY,
    SANDBOX_TRANSPORT: e.SANDBOX_TRANSPORT ?? (!production && !e.DATABASE_URL && !e.REDIS_URL),
    warnings,
  };
}

/** Requires what the one-app-per-process commands need (DESIGN §3). */
export function requireExternalServices(config: Config, app: string): void {
  if (!config.DATABASE_URL)
    throw new ConfigError(`missing configuration: DATABASE_URL is required to run ${app} alone`);
  if (!config.REDIS_URL) throw new ConfigError(`missing configuration: REDIS_URL is required to run ${app} alone`);
}
