/**
 * The limit on refused tokens per client address: a token guessed at the rate of a script meets a 429 for the
 * rest of the minute, not a 401 per try. The API's authentication and the WebSocket upgrade share one.
 */
export interface AuthFailureLimiter {
  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(address: string): number;
  /** Counts one refused token from the address. */
  failed(address: string): void;
}

/**
 * Refused tokens per address in fixed one-minute windows, in this process. (With several processes per host,
 * each counts its own: the limit is per process until it moves to Redis.)
 */
export function createAuthFailureLimiter(limit: number, windowMs = 60_000, maxAddresses = 100_000): AuthFailureLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const current = (address: string, now: number) => {
    const w = windows.get(address);
    return w && now - w.start < windowMs ? w : undefined;
  };
  return {
    retryAfter(address) {
      const now = Date.now();
      const w = current(address, now);
      return w && w.count >= limit ? Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) : 0;
    },
    failed(address) {
      const now = Date.now();
      const w = current(address, now);
      if (w) w.count += 1;
      else {
        if (windows.size >= maxAddresses) windows.clear(); // a flood of addresses: start over rather than grow
        windows.set(address, { start: now, count: 1 });
      }
    },
  };
}
