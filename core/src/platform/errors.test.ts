import { describe, expect, it } from 'vitest';
import { invalidValueDetail, isDatabaseUnavailable, isUniqueViolation } from './errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('recognizes an unreachable or refusing database, also wrapped (as Drizzle wraps driver errors)', () => {
    expect(isDatabaseUnavailable(withCode('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('08006'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    const wrapped = new Error('Failed query: select 1', { cause: new Error('Connection terminated unexpectedly') });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('leaves query errors alone: they are not fixed by retrying', () => {
    expect(isDatabaseUnavailable(withCode('23505', 'duplicate key value'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('42601', 'syntax error'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('Failed query', { cause: withCode('22P02') }))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

describe('the cause chain (Drizzle wraps the driver error)', () => {
  it('finds a unique violation and a value PostgreSQL cannot store, wrapped or not', () => {
    expect(isUniqueViolation(new Error('Failed query', { cause: withCode('23505') }))).toBe(true);
    expect(isUniqueViolation(withCode('23503', 'foreign key'))).toBe(false);
    expect(invalidValueDetail(new Error('Failed query', { cause: withCode('22003') }))).toBe(
      'a number in the request is out of range',
    );
    expect(invalidValueDetail(withCode('23505'))).toBeNull();
  });
});
