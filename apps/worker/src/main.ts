// `npm run start:worker`: the worker alone (production: DATABASE_URL and REDIS_URL required).
import { ConfigError, createRuntime, loadConfig, requireExternalServices } from '@comms/core';
import { startWorker } from './worker.js';

try {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the worker');
  const runtime = await createRuntime(config);
  const worker = startWorker(runtime);
  runtime.log.info('worker started');
  // SIGTERM: stop taking jobs, let the ones in hand finish (BullMQ returns unfinished ones to the queue).
  const stop = async () => {
    await worker.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
