/** One pino logger per process; children carry request, tenant and job ids. Bodies and identifiers never go in. */
import { type DestinationStream, pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

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
  /**
   * `json`, one object a line, for machines; `pretty`, coloured lines for a person; `auto` (the default): pretty
   * when the destination is a terminal, JSON otherwise, as pino users expect.
   */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'pretty' | 'auto';

/** Whether lines for `destination` (stdout when none) should be pretty: asked for, or a terminal under `auto`. */
export function prettyLogs(format: LogFormat, destination?: DestinationStream): boolean {
  if (format !== 'auto') return format === 'pretty';
  const target = (destination ?? process.stdout) as { isTTY?: boolean };
  return target.isTTY === true;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = prettyLogs(options.format ?? 'auto', options.destination)
    ? // In this thread, not pino's worker transport: a line is written before the process can exit.
      PinoPretty({
        colorize: true,
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,name',
        destination: options.destination ?? 1,
      })
    : options.destination;
  return pino(
    {
      name: options.name ?? 'comms',
      level: options.level ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination,
  );
}
