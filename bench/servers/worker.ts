// The outbound worker alone, against DATABASE_URL, REDIS_URL and the provider URLs in the environment.
import { createRuntime, loadConfig } from '@comms/core/platform';
import { startWorker } from '@comms/worker';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
const worker = startWorker(runtime, { sweepEveryMs: 3_600_000 });
console.log('LISTENING worker');
process.once('SIGTERM', async () => {
  await worker.close();
  await runtime.close();
  process.exit(0);
});
