// `npm run start:gateway`: the webhook gateway alone on GATEWAY_PORT (production: DATABASE_URL and REDIS_URL
// required); GATEWAY_PROCESSES processes on one port (core/src/platform/cluster.ts).
import { listen, serverLimits } from '@comms/core/http';
import { createRuntime, requireExternalServices, serveProcesses } from '@comms/core/platform';
import { createGatewayApp } from './app.js';

await serveProcesses({
  name: 'gateway',
  check: (config) => requireExternalServices(config, 'the gateway'),
  processes: (config) => ({ gateway: config.GATEWAY_PROCESSES }),
  single: 'gateway',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const server = await listen(createGatewayApp(runtime).fetch, {
      host: config.HOST,
      port: config.GATEWAY_PORT,
      ...serverLimits(runtime),
    });
    runtime.log.info({ url: server.url }, 'gateway listening');
    return {
      url: server.url,
      async close() {
        await server.close();
        await runtime.close();
      },
    };
  },
});
