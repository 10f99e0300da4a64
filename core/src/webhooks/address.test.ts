import { describe, expect, it } from 'vitest';
import { refusedRange } from './address.js';
import { retryDelayMs } from './settings.js';

describe('refusedRange', () => {
  it('allows public unicast addresses only', () => {
    for (const ok of ['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946'])
      expect(refusedRange(ok)).toBeNull();
    expect(refusedRange('127.0.0.1')).toBe('loopback');
    expect(refusedRange('169.254.169.254')).toBe('linkLocal');
    expect(refusedRange('10.1.2.3')).toBe('private');
    expect(refusedRange('172.16.0.1')).toBe('private');
    expect(refusedRange('192.168.0.1')).toBe('private');
    expect(refusedRange('100.64.0.1')).toBe('carrierGradeNat');
    expect(refusedRange('0.0.0.0')).toBe('unspecified');
    expect(refusedRange('::1')).toBe('loopback');
    expect(refusedRange('fd00::1')).toBe('uniqueLocal');
    expect(refusedRange('fe80::1')).toBe('linkLocal');
    // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
    expect(refusedRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(refusedRange('::ffff:169.254.169.254')).toBe('linkLocal');
    expect(refusedRange('not-an-ip')).toBe('not an IP address');
  });
});

describe('retryDelayMs', () => {
  const settings = {
    timeoutMs: 15_000,
    scheduleSeconds: [0, 5, 300, 1800, 7200, 18000, 36000, 36000],
    disableAfterMs: 1,
    allowPrivate: false,
    endpointConcurrency: 1,
  };
  it("follows Svix's schedule with ±20 % jitter, and ends after the last attempt", () => {
    expect(retryDelayMs(settings, 0)).toBe(0);
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(settings, 2)!;
      expect(d).toBeGreaterThanOrEqual(240_000);
      expect(d).toBeLessThanOrEqual(360_000);
    }
    expect(retryDelayMs(settings, 7)).toBeGreaterThanOrEqual(36000 * 800);
    expect(retryDelayMs(settings, 8)).toBeNull();
  });
});
