// `npm run start:gateway`: the webhook gateway alone on GATEWAY_PORT (production: DATABASE_URL and REDIS_URL required).
import { ConfigError, createRuntime, loadConfig, requireExternalServices } from '@comms/core';
import { serve } from '@hono/node-server';
import { createGatewayApp } from './app.js';

try {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the gateway');
  const runtime = await createRuntime(config);
  const app = createGatewayApp(runtime);
  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.GATEWAY_PORT }, (info) =>
    runtime.log.info({ port: info.port }, 'gateway listening'),
  );
  const stop = async () => {
    server.close();
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
