// `npm start`: the API, the webhook gateway and the worker in one process. With no
// DATABASE_URL / REDIS_URL it runs on the embedded defaults (PGlite under ./.data, in-process queue and bus).
// On PostgreSQL and Redis, API_PROCESSES > 1 or WORKER_PROCESSES > 1 make it a primary (core/src/platform/cluster.ts)
// forking API_PROCESSES HTTP processes (API and gateway on PORT) and WORKER_PROCESSES worker processes.
import { attachRealtime, createApiApp } from '@comms/api';
import { listen, serverLimits } from '@comms/core/http';
import { createGatewayApp, routeWebhooks } from '@comms/gateway';
import { startWorker } from '@comms/worker';
import { type Config, createRuntime, type Runtime, serveProcesses, signToken } from '@comms/core/platform';
import { ensureTenant, migrateTenants } from '@comms/core/tenancy';

const DEMO_TENANT = 'demo';
const DEMO_USER = '00000000-0000-4000-8000-000000000001';

/** Data kept from an earlier version (./.data) is brought up to date, and the demo tenant made, before serving. */
async function prepare(runtime: Runtime) {
  for (const { schema, applied } of await migrateTenants(runtime))
    if (applied.length) runtime.log.info({ schema, applied }, 'migrated tenant');
  if (await ensureTenant(runtime, { slug: DEMO_TENANT, name: 'Demo Travel Agency' }))
    runtime.log.info({ tenant: DEMO_TENANT }, 'created the demo tenant');
}

// Outside production the start ends with a banner for a person at a terminal, and the configuration
// warnings are part of it: pino writes asynchronously, so as log lines they could come out after it.
const showsBanner = (config: Config) => Boolean(config.JWT_SECRET) && !config.production;

async function printBanner(config: Config, kinds: string) {
  const base = config.PUBLIC_BASE_URL.replace(/\/$/, '');
  const token = await signToken(
    config.JWT_SECRET!,
    { sub: DEMO_USER, tenant_slug: DEMO_TENANT, role: 'tenant_admin' },
    '30d',
  );
  console.log(`\nCommunication Service is running (${kinds})`);
  for (const warning of config.warnings) console.log(`  Note:       ${warning}`);
  console.log(`  Console:    ${base}/console/#token=${token}`);
  console.log(`  API docs:   ${base}/docs   (ReDoc: ${base}/redoc, OpenAPI: ${base}/openapi.json)`);
  console.log(`  Inbox:      ${base}/api/v1/tenants/${DEMO_TENANT}/communications/conversations`);
  console.log(`  Webhooks:   ${base}/webhooks/${DEMO_TENANT}/{whatsapp|messenger|twilio|sendgrid/inbound|ses}`);
  console.log(`  Try:        npm run simulate -- whatsapp --tenant ${DEMO_TENANT} --text "Hello"`);
  if (config.SANDBOX_TRANSPORT)
    console.log(
      "  Sandbox:    ON (SANDBOX_TRANSPORT): replies through the simulator's accounts never reach a provider; the\n" +
        '              sandbox answers and plays back their delivered and read webhooks (reply → sent → delivered → read)',
    );
  console.log(`  Dev token (tenant_admin of '${DEMO_TENANT}', 30 days):\n\n${token}\n`);
}

async function serveHttp(runtime: Runtime, withWorker: boolean) {
  const { config } = runtime;
  const api = createApiApp(runtime);
  const gateway = createGatewayApp(runtime);
  // The sandbox transport posts its status webhooks to this process's own gateway, on loopback.
  let ownUrl: string | undefined;
  const worker = withWorker ? startWorker(runtime, { sandbox: { gatewayUrl: () => ownUrl } }) : null;
  const server = await listen(routeWebhooks(gateway, api.fetch), {
    host: config.HOST,
    port: config.PORT,
    ...serverLimits(runtime),
  });
  ownUrl = server.url;
  const realtime = attachRealtime(server.server, runtime);
  return {
    runtime,
    server,
    async close() {
      await realtime.close();
      await server.close();
      await worker?.close();
      await runtime.close();
    },
  };
}

await serveProcesses({
  name: 'all-in-one',
  processes: (config) => ({ http: config.API_PROCESSES, worker: config.WORKER_PROCESSES }),
  single: 'single',
  async prepare(config, log) {
    const runtime = await createRuntime(config, { log });
    try {
      await prepare(runtime);
    } finally {
      await runtime.close();
    }
  },
  async ready(config, log, urls) {
    const processes = `${config.API_PROCESSES} HTTP and ${config.WORKER_PROCESSES} worker processes`;
    if (showsBanner(config)) await printBanner(config, `postgres, bullmq queue; ${processes}`);
    else log.info({ url: urls[0], processes }, 'listening');
  },
  async start(role, config) {
    if (role === 'worker') {
      const runtime = await createRuntime(config);
      const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
      const worker = startWorker(runtime, { sandbox: { gatewayUrl: () => `http://${host}:${config.PORT}` } });
      runtime.log.info('worker started');
      return {
        async close() {
          await worker.close();
          await runtime.close();
        },
      };
    }
    if (role === 'http') {
      const http = await serveHttp(await createRuntime(config), false);
      http.runtime.log.info({ url: http.server.url }, 'http process listening');
      return { url: http.server.url, close: http.close };
    }
    const single = await createRuntime(config);
    await prepare(single);
    const http = await serveHttp(single, true);
    const { runtime, server } = http;
    if (showsBanner(config)) await printBanner(config, `${runtime.database.kind}, ${runtime.queues.kind} queue`);
    else {
      for (const warning of config.warnings) runtime.log.warn(warning);
      if (config.SANDBOX_TRANSPORT)
        runtime.log.warn(
          'SANDBOX_TRANSPORT is on: replies through sandbox accounts are answered by the sandbox, not sent',
        );
      runtime.log.info({ url: server.url }, 'listening');
    }
    return { url: server.url, close: http.close };
  },
});
