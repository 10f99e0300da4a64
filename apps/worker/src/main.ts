// `npm run start:worker`: the worker alone (production: DATABASE_URL and REDIS_URL required).
import { createRuntime, loadConfig, requireExternalServices, runProcess } from '@comms/core/platform';
import { startWorker } from './worker.js';

// SIGTERM: stop taking jobs and let the ones in hand finish (BullMQ's worker.close waits for them).
await runProcess(async () => {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the worker');
  const runtime = await createRuntime(config);
  const worker = startWorker(runtime);
  if (config.SANDBOX_TRANSPORT)
    runtime.log.warn('SANDBOX_TRANSPORT is on: replies through sandbox accounts are answered by the sandbox, not sent');
  runtime.log.info('worker started');
  return {
    async close() {
      await worker.close();
      await runtime.close();
    },
  };
});
