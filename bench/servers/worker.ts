// The outbound worker alone, against DATABASE_URL, REDIS_URL and the provider URLs in the environment; with
// WORKER_PROCESSES > 1 as that many processes, as `npm run start:worker` runs them.
// BENCH_LOG_LEVEL=info shows its log lines on stderr (stdout is read for LISTENING).
import { createLogger, createRuntime, isClusterProcess, serveProcesses } from '@comms/core/platform';
import { startWorker } from '@comms/worker';

process.env.LOG_LEVEL = 'silent';
await serveProcesses({
  name: 'worker',
  processes: (config) => ({ worker: config.WORKER_PROCESSES }),
  single: 'worker',
  async start(_role, config) {
    const runtime = await createRuntime(config, {
      log: createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', destination: process.stderr }),
    });
    // The benchmarks measure the queue, not the sweeper (off unless asked); the chaos scenarios rely on it.
    const worker = startWorker(runtime, {
      sweepEveryMs: Number(process.env.BENCH_SWEEP_EVERY_MS ?? 3_600_000),
      sweepAfterMs: Number(process.env.BENCH_SWEEP_AFTER_MS ?? 60_000),
    });
    if (!isClusterProcess()) console.log('LISTENING worker');
    return {
      async close() {
        await worker.close();
        await runtime.close();
      },
    };
  },
  ready: () => console.log('LISTENING worker'),
});
