// The API (with the console's files and the WebSocket) and the webhook gateway on one port, as `npm start` serves
// them, against DATABASE_URL (and REDIS_URL when set); no worker.
import { attachRealtime, createApiApp, listen } from '@comms/api';
import { createRuntime, loadConfig } from '@comms/core/platform';
import { createGatewayApp, routeWebhooks } from '@comms/gateway';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
const api = createApiApp(runtime, { logRequests: false });
const server = await listen(routeWebhooks(createGatewayApp(runtime), api.fetch), { host: '127.0.0.1', port: 0 });
const realtime = attachRealtime(server.server, runtime);
console.log(`LISTENING ${server.url}`);
process.once('SIGTERM', async () => {
  await realtime.close();
  await server.close();
  await runtime.close();
  process.exit(0);
});
