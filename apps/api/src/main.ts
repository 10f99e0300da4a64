// `npm run start:api`: the API alone (production: DATABASE_URL and REDIS_URL required); API_PROCESSES processes
// on one port (core/src/platform/cluster.ts).
import { createRuntime, requireExternalServices, serveProcesses } from '@comms/core/platform';
import { serveApi } from './serve.js';

await serveProcesses({
  name: 'api',
  check: (config) => requireExternalServices(config, 'the API'),
  processes: (config) => ({ api: config.API_PROCESSES }),
  single: 'api',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const served = await serveApi(runtime, { host: config.HOST, port: config.PORT });
    runtime.log.info({ url: served.url }, 'api listening');
    return served;
  },
});
