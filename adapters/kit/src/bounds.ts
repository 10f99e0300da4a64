/**
 * The bounds every time and coordinate of a normalized event keeps (issue 21 point 2), shared by the events' schema
 * and the adapters' wire fields: what PostgreSQL, ISO strings and the globe can hold.
 */
import { z } from 'zod';

/** No provider of ours existed before this: an earlier time is a bad value, not an old message. */
export const EARLIEST_TIME_MS = Date.UTC(2000, 0, 1);
/** How far ahead of our clock a provider's time may be (clock skew, time zones gone wrong) before it is refused. */
export const MAX_CLOCK_AHEAD_MS = 24 * 60 * 60 * 1000;

/** A valid time between 2000-01-01 and a day from now: what PostgreSQL, ISO strings and our ordering can hold. */
export function isPlausibleTime(at: Date, now = Date.now()): boolean {
  const ms = at.getTime();
  return Number.isFinite(ms) && ms >= EARLIEST_TIME_MS && ms <= now + MAX_CLOCK_AHEAD_MS;
}

export const Latitude = z.number().min(-90, 'a latitude (-90 to 90)').max(90, 'a latitude (-90 to 90)');
export const Longitude = z.number().min(-180, 'a longitude (-180 to 180)').max(180, 'a longitude (-180 to 180)');
