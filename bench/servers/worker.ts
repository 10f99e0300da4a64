// The outbound worker alone, against DATABASE_URL, REDIS_URL and the provider URLs in the environment.
// BENCH_LOG_LEVEL=info shows its log lines on stderr (stdout is read for LISTENING).
import { createLogger, createRuntime, loadConfig } from '@comms/core/platform';
import { startWorker } from '@comms/worker';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), {
  log: createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', destination: process.stderr }),
});
// The benchmarks measure the queue, not the sweeper (off unless asked); the chaos scenarios rely on it.
const worker = startWorker(runtime, {
  sweepEveryMs: Number(process.env.BENCH_SWEEP_EVERY_MS ?? 3_600_000),
  sweepAfterMs: Number(process.env.BENCH_SWEEP_AFTER_MS ?? 60_000),
});
console.log('LISTENING worker');
process.once('SIGTERM', async () => {
  await worker.close();
  await runtime.close();
  process.exit(0);
});
