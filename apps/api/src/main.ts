// `npm run start:api`: the API alone (production: DATABASE_URL and REDIS_URL required); API_PROCESSES processes
// on one port (core/src/platform/cluster.ts).
import { listen, serverLimits } from '@comms/core/http';
import { createRuntime, requireExternalServices, serveProcesses } from '@comms/core/platform';
import { createApiApp } from './app.js';
import { attachRealtime } from './ws/hub.js';

await serveProcesses({
  name: 'api',
  check: (config) => requireExternalServices(config, 'the API'),
  processes: (config) => ({ api: config.API_PROCESSES }),
  single: 'api',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const server = await listen(createApiApp(runtime).fetch, {
      host: config.HOST,
      port: config.PORT,
      ...serverLimits(runtime),
    });
    const realtime = attachRealtime(server.server, runtime);
    runtime.log.info({ url: server.url }, 'api listening');
    return {
      url: server.url,
      async close() {
        await realtime.close();
        await server.close();
        await runtime.close();
      },
    };
  },
});
