/**
 * The shape every entry point shares: a bad config is one line and exit 1; SIGTERM/SIGINT close gracefully once,
 * within a deadline. `npm start` and the `start:*` scripts `exec` node, so the signal a supervisor sends to the
 * pid it holds (npm's, or node's as pid 1 in a container) reaches this process.
 */
import { ConfigError } from './config.js';

/** `docker stop` and systemd wait 10 s before SIGKILL: what has not drained by then is cut short on our terms. */
export const STOP_DEADLINE_MS = 8_000;

export async function runProcess(
  start: () => Promise<{ close(): Promise<void> }>,
  options: { stopDeadlineMs?: number } = {},
): Promise<void> {
  try {
    const running = await start();
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return; // a second signal (npm forwarding the group's, an impatient ^C) leaves the drain be
      stopping = true;
      const deadline = setTimeout(() => {
        console.error(
          `stopping on ${signal}: not drained within ${options.stopDeadlineMs ?? STOP_DEADLINE_MS} ms; exiting`,
        );
        process.exit(1);
      }, options.stopDeadlineMs ?? STOP_DEADLINE_MS);
      deadline.unref();
      try {
        await running.close();
      } catch (err) {
        console.error(`stopping on ${signal}: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      }
      process.exit(0);
    };
    // `on`, not `once`: with no listener left, a second signal would kill the process mid-drain.
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
