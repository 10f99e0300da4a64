import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLogs } from './logger.js';

/** A destination that keeps what is written; `tty` makes it look like a terminal. */
function sink(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { isTTY: tty, text: () => chunks.join('') });
}

describe('log format', () => {
  it('is pretty on a terminal and JSON elsewhere, unless told', () => {
    expect(prettyLogs('auto', sink(true))).toBe(true);
    expect(prettyLogs('auto', sink(false))).toBe(false);
    expect(prettyLogs('pretty', sink(false))).toBe(true);
    expect(prettyLogs('json', sink(true))).toBe(false);
  });

  it('writes coloured lines a person reads to a terminal, one JSON object a line to a pipe', () => {
    const terminal = sink(true);
    createLogger({ destination: terminal }).info({ tenant: 'demo' }, 'api listening');
    expect(terminal.text()).toContain('api listening');
    expect(terminal.text()).toContain('\u001b['); // colour
    expect(() => JSON.parse(terminal.text())).toThrow();

    const pipe = sink(false);
    createLogger({ destination: pipe }).info({ tenant: 'demo' }, 'api listening');
    expect(JSON.parse(pipe.text())).toMatchObject({ level: 30, tenant: 'demo', msg: 'api listening' });
  });

  it('keeps redacting in pretty lines', () => {
    const terminal = sink(true);
    createLogger({ destination: terminal, format: 'pretty' }).info({ authorization: 'Bearer abc.def' }, 'request');
    expect(terminal.text()).not.toContain('abc.def');
    expect(terminal.text()).toContain('[redacted]');
  });
});
