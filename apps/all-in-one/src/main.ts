// `npm start`: the API, the webhook gateway and the worker in one process. With no
// DATABASE_URL / REDIS_URL it runs on the embedded defaults (PGlite under ./.data, in-process queue and bus).
import { attachRealtime, createApiApp } from '@comms/api';
import { listen, serverLimits } from '@comms/core/http';
import { createGatewayApp, routeWebhooks } from '@comms/gateway';
import { startWorker } from '@comms/worker';
import { createRuntime, loadConfig, runProcess, signToken } from '@comms/core/platform';
import { ensureTenant, migrateTenants } from '@comms/core/tenancy';

const DEMO_TENANT = 'demo';
const DEMO_USER = '00000000-0000-4000-8000-000000000001';

await runProcess(async () => {
  const config = loadConfig(process.env);
  const runtime = await createRuntime(config);
  // Outside production the start ends with a banner for a person at a terminal, and the configuration
  // warnings are part of it: pino writes asynchronously, so as log lines they could come out after it.
  const banner = Boolean(config.JWT_SECRET) && !config.production;
  if (!banner) for (const warning of config.warnings) runtime.log.warn(warning);
  // Data kept from an earlier version (./.data) is brought up to date before anything is served.
  for (const { schema, applied } of await migrateTenants(runtime))
    if (applied.length) runtime.log.info({ schema, applied }, 'migrated tenant');
  if (await ensureTenant(runtime, { slug: DEMO_TENANT, name: 'Demo Travel Agency' }))
    runtime.log.info({ tenant: DEMO_TENANT }, 'created the demo tenant');
  const api = createApiApp(runtime);
  const gateway = createGatewayApp(runtime);
  // The sandbox transport posts its status webhooks to this process's own gateway, on loopback.
  let ownUrl: string | undefined;
  const worker = startWorker(runtime, { sandbox: { gatewayUrl: () => ownUrl } });
  const server = await listen(routeWebhooks(gateway, api.fetch), {
    host: config.HOST,
    port: config.PORT,
    ...serverLimits(runtime),
  });
  ownUrl = server.url;
  const realtime = attachRealtime(server.server, runtime);
  const base = config.PUBLIC_BASE_URL.replace(/\/$/, '');
  if (banner && config.JWT_SECRET) {
    const token = await signToken(
      config.JWT_SECRET,
      { sub: DEMO_USER, tenant_slug: DEMO_TENANT, role: 'tenant_admin' },
      '30d',
    );
    console.log(`\nCommunication Service is running (${runtime.database.kind}, ${runtime.queues.kind} queue)`);
    for (const warning of config.warnings) console.log(`  Note:       ${warning}`);
    console.log(`  Console:    ${base}/console/#token=${token}`);
    console.log(`  API docs:   ${base}/docs   (ReDoc: ${base}/redoc, OpenAPI: ${base}/openapi.json)`);
    console.log(`  Inbox:      ${base}/api/v1/tenants/${DEMO_TENANT}/communications/conversations`);
    console.log(`  Webhooks:   ${base}/webhooks/${DEMO_TENANT}/{whatsapp|messenger|twilio|sendgrid/inbound}`);
    console.log(`  Try:        npm run simulate -- whatsapp --tenant ${DEMO_TENANT} --text "Hello"`);
    if (config.SANDBOX_TRANSPORT)
      console.log(
        "  Sandbox:    ON (SANDBOX_TRANSPORT): replies through the simulator's accounts never reach a provider; the\n" +
          '              sandbox answers and plays back their delivered and read webhooks (reply → sent → delivered → read)',
      );
    console.log(`  Dev token (tenant_admin of '${DEMO_TENANT}', 30 days):\n\n${token}\n`);
  } else {
    if (config.SANDBOX_TRANSPORT)
      runtime.log.warn(
        'SANDBOX_TRANSPORT is on: replies through sandbox accounts are answered by the sandbox, not sent',
      );
    runtime.log.info({ url: server.url }, 'listening');
  }
  return {
    async close() {
      await realtime.close();
      await server.close();
      await worker.close();
      await runtime.close();
    },
  };
});
