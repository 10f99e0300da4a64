// `npm run start:api`: the API alone (production: DATABASE_URL and REDIS_URL required).
import { ConfigError, createRuntime, loadConfig, requireExternalServices } from '@comms/core';
import { createApiApp } from './app.js';
import { listen } from './server.js';

try {
  const config = loadConfig(process.env);
  requireExternalServices(config, 'the API');
  const runtime = await createRuntime(config);
  const app = createApiApp(runtime);
  const server = await listen(app.fetch, { host: config.HOST, port: config.PORT });
  runtime.log.info({ url: server.url }, 'api listening');
  const stop = async () => {
    await server.close();
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
