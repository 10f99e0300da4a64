// `npm run start:gateway`: the webhook gateway alone on GATEWAY_PORT (production: DATABASE_URL and REDIS_URL required).
import { listen, serverLimits } from '@comms/core/http';
import { createRuntime, loadConfig, requireExternalServices, runProcess } from '@comms/core/platform';
import { createGatewayApp } from './app.js';

await runProcess(async () => {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the gateway');
  const runtime = await createRuntime(config);
  const server = await listen(createGatewayApp(runtime).fetch, {
    host: config.HOST,
    port: config.GATEWAY_PORT,
    ...serverLimits(runtime),
  });
  runtime.log.info({ url: server.url }, 'gateway listening');
  return {
    async close() {
      await server.close();
      await runtime.close();
    },
  };
});
