// `npm run start:api`: the API alone (production: DATABASE_URL and REDIS_URL required).
import { listen, serverLimits } from '@comms/core/http';
import { createRuntime, loadConfig, requireExternalServices, runProcess } from '@comms/core/platform';
import { createApiApp } from './app.js';
import { attachRealtime } from './ws/hub.js';

await runProcess(async () => {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the API');
  const runtime = await createRuntime(config);
  const server = await listen(createApiApp(runtime).fetch, {
    host: config.HOST,
    port: config.PORT,
    ...serverLimits(runtime),
  });
  const realtime = attachRealtime(server.server, runtime);
  runtime.log.info({ url: server.url }, 'api listening');
  return {
    async close() {
      await realtime.close();
      await server.close();
      await runtime.close();
    },
  };
});
