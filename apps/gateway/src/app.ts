/** The webhook gateway: provider webhooks in, verified and stored before any 2xx (DESIGN §8). */
import type { InboundAdapter } from '@comms/adapter-kit';
import { messengerInbound } from '@comms/adapter-messenger';
import { sendgridEvents, sendgridInbound } from '@comms/adapter-sendgrid';
import { createSesInbound, SIMULATOR_CERTIFICATE } from '@comms/adapter-ses';
import { twilioInbound, twilioStatus } from '@comms/adapter-twilio';
import { whatsappInbound } from '@comms/adapter-whatsapp';
import { createInboundPipeline, WEBHOOK_PREFIX, type WebhookRoute, webhookPath } from '@comms/core/inbox';
import { createHttpMetrics, type FetchHandler, notFoundOrNotAllowed, observe, securityHeaders } from '@comms/core/http';
import type { Config, Runtime } from '@comms/core/platform';
import { Hono } from 'hono';
import { handleHandshake, handleWebhook, unavailable } from './webhook.js';

/** Every provider route: its name (core's WEBHOOK_ROUTES: path and receipt) and the adapter that reads it. */
export const INBOUND_ROUTES: readonly (readonly [WebhookRoute, InboundAdapter])[] = [
  ['whatsapp', whatsappInbound],
  ['messenger', messengerInbound],
  ['twilio', twilioInbound],
  ['twilio_status', twilioStatus],
  ['sendgrid_inbound', sendgridInbound],
  ['sendgrid_events', sendgridEvents],
];

/**
 * The SES route's adapter, from config: which hosts may serve SNS certificates, the CA trusted besides the public ones
 * (tests), the simulator's certificate on the embedded defaults (never in production), and the S3 endpoint.
 */
export function sesInboundOf(config: Config) {
  const simulator = config.SNS_TRUST_SIMULATOR;
  return createSesInbound({
    trust: {
      hosts: [...config.SNS_CERT_HOSTS, ...(simulator ? ['127.0.0.1', 'localhost'] : [])],
      ca: [...(config.SNS_CERT_CA ? [config.SNS_CERT_CA] : []), ...(simulator ? [SIMULATOR_CERTIFICATE] : [])],
    },
    ...(config.S3_API_URL ? { s3Endpoint: config.S3_API_URL } : {}),
  });
}

export interface GatewayAppOptions {
  /** One log line per webhook request (off in benchmarks). */
  logRequests?: boolean;
}

export function createGatewayApp(runtime: Runtime, options: GatewayAppOptions = {}) {
  const app = new Hono();
  const pipeline = createInboundPipeline(runtime);
  app.use(
    '*',
    observe(createHttpMetrics(runtime.metrics), { logRequests: options.logRequests ?? true, log: runtime.log }),
  );
  app.use('*', securityHeaders({ hsts: runtime.config.PUBLIC_BASE_URL.startsWith('https:') }));
  // Body limit (413): in readBody, which reads the bytes once for the signature and the parser.
  app.onError((err) => {
    runtime.log.error({ err }, 'gateway error');
    return unavailable();
  });
  const routes: (readonly [WebhookRoute, InboundAdapter])[] = [
    ...INBOUND_ROUTES,
    ['ses', sesInboundOf(runtime.config)],
  ];
  for (const [route, adapter] of routes) {
    const path = webhookPath(':tenant', route);
    app.post(path, (c) => handleWebhook(runtime, pipeline, c, route, adapter));
    if (adapter.handshake) app.get(path, (c) => handleHandshake(pipeline, c, adapter));
  }
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.notFound(notFoundOrNotAllowed(app, (method, path) => `no webhook route for ${method} ${path}`));
  return app;
}

/**
 * One port for the gateway and another app, as `npm start` serves them: provider webhooks to the gateway,
 * everything else to `other`. Node's env (`{ incoming, outgoing }`) goes along, so the gateway reads the
 * webhook's bytes straight from Node's request.
 */
export function routeWebhooks(gateway: Hono, other: FetchHandler): FetchHandler {
  return (req, env) =>
    new URL(req.url).pathname.startsWith(WEBHOOK_PREFIX) ? gateway.fetch(req, env) : other(req, env);
}
