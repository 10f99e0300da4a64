// The real API with its WebSocket (no request logs) against DATABASE_URL (and REDIS_URL when set).
import { attachRealtime, createApiApp, listen } from '@comms/api';
import { createRuntime, loadConfig } from '@comms/core/platform';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
const app = createApiApp(runtime, { logRequests: false });
const server = await listen(app.fetch, { host: '127.0.0.1', port: 0 });
const realtime = attachRealtime(server.server, runtime);
console.log(`LISTENING ${server.url}`);
process.once('SIGTERM', async () => {
  await realtime.close();
  await server.close();
  await runtime.close();
  process.exit(0);
});
