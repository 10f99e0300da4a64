/** Small helpers the realtime tests share. */
import type { WsClient } from './harness.js';

/** Orders event ids (`<ms>-<seq>`, as the bus assigns them within a tenant) the way the bus does. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am! - bm! || as! - bs!;
}

/** The contents of the `entry_created` frames a client received, in order. */
export const contents = (c: WsClient) => c.frames.filter((f) => f.type === 'entry_created').map((f) => f.data?.content);
