/** One pino logger per process; children carry request, tenant and job ids. Bodies and identifiers never go in. */
import { type DestinationStream, pino, type Logger } from 'pino';

export type { Logger };

// Keys that could carry secrets or personal data, redacted wherever they appear in a log object.
const REDACT = [
  'authorization',
  'token',
  'password',
  'secret',
  'credentials',
  '*.authorization',
  '*.token',
  '*.credentials',
  '*.access_token',
  '*.app_secret',
  '*.auth_token',
  '*.api_key',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'comms',
      level: options.level ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}
