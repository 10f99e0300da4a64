// `npm run start:worker`: the worker alone (production: DATABASE_URL and REDIS_URL required); WORKER_PROCESSES
// processes (core/src/platform/cluster.ts). Rate limits and the sweeper hold across them (Redis).
import { createRuntime, requireExternalServices, serveProcesses } from '@comms/core/platform';
import { startWorker } from './worker.js';

// SIGTERM: stop taking jobs and let the ones in hand finish (BullMQ's worker.close waits for them).
await serveProcesses({
  name: 'worker',
  check: (config) => requireExternalServices(config, 'the worker'),
  processes: (config) => ({ worker: config.WORKER_PROCESSES }),
  single: 'worker',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const worker = startWorker(runtime);
    if (config.SANDBOX_TRANSPORT)
      runtime.log.warn(
        'SANDBOX_TRANSPORT is on: replies through sandbox accounts are answered by the sandbox, not sent',
      );
    runtime.log.info('worker started');
    return {
      async close() {
        await worker.close();
        await runtime.close();
      },
    };
  },
});
