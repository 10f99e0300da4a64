/**
 * What the command-line tools share: `--help` prints every option; a bad option or value is one line on stderr
 * (no stack trace) and exit 2; anything else a tool refuses is one line and exit 1.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Parses argv against `options`, or exits: 0 after printing `usage` for --help, 2 for anything it does not take. */
export function commandLine<O extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  options: O,
  allowPositionals = false,
) {
  try {
    const parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if ((parsed.values as { help?: boolean }).help) {
      console.log(usage);
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    fail(`${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')} (see --help)`, 2);
  }
}

/** One line on stderr, and the exit code. */
export function fail(line: string, code = 1): never {
  console.error(line);
  process.exit(code);
}
