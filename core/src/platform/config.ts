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
  /** Amazon SES: fallback credentials for SES accounts without their own key (else the AWS SDK's default chain). */
  AWS_ACCESS_KEY_ID: z.preprocess(emptyAsUndefined, z.string().optional()),
  AWS_SECRET_ACCESS_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  AWS_SESSION_TOKEN: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** SESv2 and S3 endpoints; AWS's regional endpoints when unset (tests point them at fakes on loopback). */
  SES_API_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  S3_API_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  /**
   * The hosts SNS signing certificates and SubscribeURLs may come from (comma-separated, `*` one DNS label); the
   * certificate URL must also be https.
   */
  SNS_CERT_HOSTS: z
    .string()
    .default('sns.*.amazonaws.com,sns.*.amazonaws.com.cn')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((hosts) => hosts.length > 0, 'must name at least one host'),
  /** PEM of a certificate authority trusted for those fetches instead of the public ones: tests only. */
  SNS_CERT_CA: z.preprocess(emptyAsUndefined, z.string().includes('-----BEGIN CERTIFICATE-----').optional()),
  /**
   * Trust the development simulator's SNS certificate on 127.0.0.1/localhost (`npm run simulate -- ses`). On by
   * default only on the embedded defaults; refused in production.
   */
  SNS_TRUST_SIMULATOR: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  ),
  NOTIFICATION_SERVICE_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  /** The local media store's directory (files agents open: inbound media, attachments, uploads). */
  MEDIA_DIR: z.string().min(1).default('./.data/media'),
  /** Largest media file stored (bytes); 25 MiB is the largest any of the providers delivers. */
  MEDIA_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .default(25 * 1024 * 1024),
  /** Comma-separated MIME types (or `type/*`) the media store takes; empty: the built-in list. */
  MEDIA_ALLOWED_TYPES: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The platform's File Service: with it set, media go there instead of MEDIA_DIR. */
  FILE_SERVICE_URL: z.preprocess(emptyAsUndefined, optionalUrl),
  /** The service token the File Service takes (Bearer). */
  FILE_SERVICE_TOKEN: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** How long a signed public media link (what Twilio fetches for outbound MMS) stays valid, in seconds. */
  MEDIA_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3_600),
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
  /**
   * Outgoing webhooks (issue 15) may go to loopback, private, link-local and metadata addresses (tests, single-host
   * installs). Off by default: an endpoint there is refused at creation and again at connect time, after DNS.
   */
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Webhook endpoints may be plain `http://` (default: outside production only). */
  WEBHOOK_ALLOW_HTTP: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  ),
  /** A receiver that has not answered within this (ms) has failed the attempt. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /**
   * Seconds before each attempt of a delivery, the first included (Svix's schedule: at once, 5 s, 5 min, 30 min,
   * 2 h, 5 h, 10 h, 10 h); each delay is jittered by ±20 %. Decimals allowed (tests use fractions of a second).
   */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('0,5,300,1800,7200,18000,36000,36000')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length >= 1 && a.length <= 20 && a.every((n) => Number.isFinite(n) && n >= 0), {
      message: 'must be 1 to 20 comma-separated non-negative numbers of seconds',
    }),
  /** An endpoint whose every attempt has failed for this long (ms) is disabled (default 5 days). */
  WEBHOOK_DISABLE_AFTER_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 24 * 3_600_000),
  /** After a rotation, the previous secret keeps signing beside the new one this long (ms; default 24 h). */
  WEBHOOK_SECRET_OVERLAP_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3_600_000),
  /** Attempts in flight to one endpoint, per worker process: one slow receiver cannot take every worker slot. */
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().positive().default(10),
  /**
   * Days a finished (succeeded or failed) webhook delivery and its attempts are kept; older ones are deleted by
   * the worker's hourly prune. A replay reaches back this far.
   */
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
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

export interface Config
  extends Omit<
    Env,
    'JWT_SECRET' | 'ENCRYPTION_KEY' | 'SANDBOX_TRANSPORT' | 'SNS_TRUST_SIMULATOR' | 'WEBHOOK_ALLOW_HTTP'
  > {
  /** Whether the simulator's SNS certificate is trusted (never in production). */
  SNS_TRUST_SIMULATOR: boolean;
  /** Whether webhook endpoints may be plain http (never by default in production). */
  WEBHOOK_ALLOW_HTTP: boolean;
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
    // Production trusts AWS's certificates through the public authorities, and nothing else.
    if (e.SNS_CERT_CA)
      throw new ConfigError('invalid configuration: SNS_CERT_CA cannot be set in production (NODE_ENV=production)');
    if (e.SNS_TRUST_SIMULATOR)
      throw new ConfigError(
        'invalid configuration: SNS_TRUST_SIMULATOR cannot be on in production (NODE_ENV=production)',
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
  if (e.FILE_SERVICE_URL && !e.FILE_SERVICE_TOKEN)
    throw new ConfigError('missing configuration: FILE_SERVICE_TOKEN is required with FILE_SERVICE_URL');
  return {
    ...e,
    production,
    JWT_SECRET: e.JWT_SECRET ?? (e.JWKS_URL ? undefined : DEV_JWT_SECRET),
    ENCRYPTION_KEY: e.ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY,
    SANDBOX_TRANSPORT: e.SANDBOX_TRANSPORT ?? (!production && !e.DATABASE_URL && !e.REDIS_URL),
    SNS_TRUST_SIMULATOR: e.SNS_TRUST_SIMULATOR ?? (!production && !e.DATABASE_URL && !e.REDIS_URL),
    WEBHOOK_ALLOW_HTTP: e.WEBHOOK_ALLOW_HTTP ?? !production,
    warnings,
  };
}

/** Requires what the one-app-per-process commands need (DESIGN §3). */
export function requireExternalServices(config: Config, app: string): void {
  if (!config.DATABASE_URL)
    throw new ConfigError(`missing configuration: DATABASE_URL is required to run ${app} alone`);
  if (!config.REDIS_URL) throw new ConfigError(`missing configuration: REDIS_URL is required to run ${app} alone`);
}
