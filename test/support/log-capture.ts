/**
 * Every test runtime's log lines, kept for one check at the end of `npm test`: no secret in any line across the
 * whole suite (issue 17). The global setup makes the folder (COMMS_TEST_LOG_DIR) and scans it in its teardown;
 * the harness logs there at debug level and remembers every credential a test hands the API.
 */
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@comms/core/platform';

export const LOG_DIR_ENV = 'COMMS_TEST_LOG_DIR';

/** A logger for a test runtime: debug lines into the run's folder, or nothing outside `npm test`'s setup. */
export function testLogger(): Logger {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) return createLogger({ level: 'silent' });
  return createLogger({
    level: 'debug',
    destination: createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' }),
  });
}

/** Values that must never appear in a log line (shorter ones would match by chance). */
export function rememberSecrets(values: unknown[]): void {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) return;
  const lines = values
    .filter((v): v is string => typeof v === 'string' && v.length >= 8)
    .map((v) => `${JSON.stringify(v)}\n`);
  if (lines.length) appendFileSync(join(dir, `secrets-${process.pid}.txt`), lines.join(''));
}

// A JSON Web Token (header.payload.signature, base64url, both JSON parts starting with '{"').
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}/;

/** The lines of the run's logs that carry a secret, each named by file and line with the secret masked. */
export function findLeaks(dir: string, alwaysSecret: string[]): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir);
  const secrets = new Set(alwaysSecret);
  for (const f of files.filter((f) => f.startsWith('secrets-')))
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n'))
      if (line) secrets.add(JSON.parse(line) as string);
  const leaks: string[] = [];
  for (const f of files.filter((f) => f.endsWith('.log'))) {
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const secret = [...secrets].find((s) => line.includes(s) || line.includes(JSON.stringify(s).slice(1, -1)));
        if (secret) leaks.push(`${f}:${i + 1}: a credential (${secret.slice(0, 3)}…) in ${mask(line, secret)}`);
        else if (JWT.test(line))
          leaks.push(`${f}:${i + 1}: a JSON Web Token in ${line.replace(JWT, 'eyJ…').slice(0, 300)}`);
      });
  }
  return leaks;
}

const mask = (line: string, secret: string) => line.split(secret).join('***').slice(0, 300);

export function makeLogDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}
