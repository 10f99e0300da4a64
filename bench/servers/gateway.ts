// The webhook gateway alone (no request logs), against DATABASE_URL and REDIS_URL.
import { createRuntime, loadConfig } from '@comms/core/platform';
import { createGatewayApp } from '@comms/gateway';
import { serve } from '@hono/node-server';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
const app = createGatewayApp(runtime, { logRequests: false });
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
  console.log(`LISTENING http://127.0.0.1:${info.port}`),
);
process.once('SIGTERM', async () => {
  server.close();
  await runtime.close();
  process.exit(0);
});
