import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from './inbound.js';
import { fieldOf, readWire, UnixMillis, UnixSeconds, UnixSecondsText } from './wire.js';

describe('provider times (issue 21 point 2)', () => {
  it('reads documented Unix seconds and milliseconds as dates', () => {
    expect(UnixSecondsText.parse('1749416383').toISOString()).toBe('2025-06-08T20:59:43.000Z');
    expect(UnixSeconds.parse(1513299569).toISOString()).toBe('2017-12-15T00:59:29.000Z');
    expect(UnixMillis.parse(1458692752478).toISOString()).toBe('2016-03-23T00:25:52.478Z');
  });

  it('refuses what is not a time, or not one between 2000 and a day from now', () => {
    for (const bad of ['abc', 'NaN', '1e10', '-1', '', ' 1749416383', '99999999999', '0', 1749416383])
      expect(UnixSecondsText.safeParse(bad).success, String(bad)).toBe(false);
    for (const bad of [1.5, -1, 99999999999, 1513299569000, Number.NaN, '1513299569'])
      expect(UnixSeconds.safeParse(bad).success, String(bad)).toBe(false);
    for (const bad of [1458692752, 99999999999999, -1, 1.5]) expect(UnixMillis.safeParse(bad).success).toBe(false);
  });
});

describe('readWire', () => {
  it('names every bad field from the body root', () => {
    expect(fieldOf(['entry', 0, 'changes', 1, 'value'])).toBe('entry[0].changes[1].value');
    expect(fieldOf([2, 'timestamp'])).toBe('[2].timestamp');
    const err = (() => {
      try {
        readWire(UnixSecondsText, 'abc', 'bad', ['entry', 0, 'timestamp']);
      } catch (e) {
        return e as MalformedPayloadError;
      }
    })();
    expect(err).toBeInstanceOf(MalformedPayloadError);
    expect(err!.issues).toEqual([{ field: 'entry[0].timestamp', message: 'Unix seconds as a string of digits' }]);
    expect(err!.message).toBe('bad: entry[0].timestamp: Unix seconds as a string of digits');
  });
});
