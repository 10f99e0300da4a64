// `npm run start:gateway`: the webhook gateway alone on GATEWAY_PORT (production: DATABASE_URL and REDIS_URL required).
import { createRuntime, loadConfig, requireExternalServices, runProcess } from '@comms/core/platform';
import { serve } from '@hono/node-server';
import { createGatewayApp } from './app.js';

await runProcess(async () => {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the gateway');
  const runtime = await createRuntime(config);
  const server = serve(
    { fetch: createGatewayApp(runtime).fetch, hostname: config.HOST, port: config.GATEWAY_PORT },
    (info) => runtime.log.info({ port: info.port }, 'gateway listening'),
  );
  return {
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await runtime.close();
    },
  };
});
