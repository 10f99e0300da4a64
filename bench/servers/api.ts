// The real API with its WebSocket (no request logs) against DATABASE_URL (and REDIS_URL when set); with
// API_PROCESSES > 1 (and REDIS_URL) as that many processes on one port, as `npm run start:api` runs them.
import { attachRealtime, createApiApp, listen } from '@comms/api';
import { createRuntime, isClusterProcess, serveProcesses } from '@comms/core/platform';

process.env.LOG_LEVEL = 'silent';
await serveProcesses({
  name: 'api',
  processes: (config) => ({ api: config.API_PROCESSES }),
  single: 'api',
  async start(_role, config) {
    const runtime = await createRuntime(config);
    const app = createApiApp(runtime, { logRequests: false });
    const server = await listen(app.fetch, { host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 0) });
    const realtime = attachRealtime(server.server, runtime);
    if (!isClusterProcess()) console.log(`LISTENING ${server.url}`);
    return {
      url: server.url,
      async close() {
        await realtime.close();
        await server.close();
        await runtime.close();
      },
    };
  },
  ready: (_config, _log, urls) => console.log(`LISTENING ${urls[0]}`),
});
