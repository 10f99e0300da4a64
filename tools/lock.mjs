// One build at a time: the builds (tools/build.mjs, apps/console/build.mjs) run from parallel test files and starts.
import { mkdirSync, rmSync } from 'node:fs';

/**
 * Runs `fn` holding the lock `dir` (a directory: made atomically); waits up to 3 minutes for another holder, then
 * takes over a lock a killed build left behind.
 */
export async function withLock(dir, fn) {
  const until = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      if (Date.now() > until) rmSync(dir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
