// The real API with its WebSocket (no request logs) against DATABASE_URL (and REDIS_URL when set); with
// API_PROCESSES > 1 (and REDIS_URL) as that many processes on one port, as `npm run start:api` runs them.
import { serveApi } from '@comms/api';
import { createRuntime, isClusterProcess, serveProcesses } from '@comms/core/platform';

process.env.LOG_LEVEL = 'silent';
await serveProcesses({
  name: 'api',
  processes: (config) => ({ api: config.API_PROCESSES }),
  single: 'api',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const port = Number(process.env.BENCH_PORT ?? 0);
    const served = await serveApi(runtime, { host: '127.0.0.1', port }, { logRequests: false });
    if (!isClusterProcess()) console.log(`LISTENING ${served.url}`);
    return served;
  },
  ready: (_config, _log, urls) => console.log(`LISTENING ${urls[0]}`),
});
