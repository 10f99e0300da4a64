// The real API (no request logs) against the database in DATABASE_URL.
import { createApiApp, listen } from '@comms/api';
import { createRuntime, loadConfig } from '@comms/core';

const runtime = await createRuntime(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
const app = createApiApp(runtime, { logRequests: false });
const server = await listen(app.fetch, { host: '127.0.0.1', port: 0 });
console.log(`LISTENING ${server.url}`);
process.once('SIGTERM', async () => {
  await server.close();
  await runtime.close();
  process.exit(0);
});
