/** The API app: platform endpoints, docs, tenants, and the tenant-scoped inbox routes. */
import { createHttpMetrics, limitBody, notFoundOrNotAllowed, observe, securityHeaders } from '@comms/core/http';
import {
  AppError,
  invalidValueDetail,
  isDatabaseUnavailable,
  jsonNestsDeeperThan,
  metricsText,
  type Runtime,
  TOO_DEEP,
} from '@comms/core/platform';
import { HTTPException } from 'hono/http-exception';
import { Gauge } from 'prom-client';
import { router } from './lib/env.js';
import { allowLoopbackHttp } from './lib/openapi.js';
import { appErrorResponse, problemResponse } from './lib/problem.js';
import { authenticate, tenantScope } from './middleware/auth.js';
import { adminQueueRoutes } from './routes/admin-queues.js';
import { channelAccountRoutes } from './routes/channel-accounts.js';
import { chatRoutes } from './routes/chat/index.js';
import { consoleRoutes } from './routes/console.js';
import { conversationRoutes } from './routes/conversations.js';
import { docsRoutes } from './routes/docs.js';
import { MEDIA_UPLOAD_PATH, mediaLinkRoutes, mediaRoutes } from './routes/media.js';
import { messageRoutes } from './routes/messages.js';
import { quickReplyRoutes } from './routes/quick-replies.js';
import { settingsRoutes } from './routes/settings.js';
import { tenantRoutes } from './routes/tenants.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;

export interface ApiAppOptions {
  /** One log line per request (off in benchmarks). */
  logRequests?: boolean;
  /** Extra routers mounted inside the tenant scope (chat, admin); they see `ctx`. */
  extend?: (app: ReturnType<typeof router>) => void;
}

export function createApiApp(runtime: Runtime, options: ApiAppOptions = {}) {
  const registry = runtime.metrics;
  const metrics = createHttpMetrics(registry);
  // Once per registry: a second app on the same runtime (tests) shares the gauge.
  if (!registry.getSingleMetric('queue_jobs'))
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      // Every process reads the same queues: summed over processes they would count each job once per process.
      aggregator: 'max',
      async collect() {
        try {
          const counts = await runtime.queues.counts();
          for (const [queue, states] of Object.entries(counts))
            for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        } catch {
          // Queue unreachable: /ready says so; metrics still answer.
        }
      },
    });

  allowLoopbackHttp(!runtime.config.production);
  const app = router();
  app.use('*', async (c, next) => {
    c.set('runtime', runtime);
    await next();
  });
  app.use('*', observe(metrics, { logRequests: options.logRequests ?? true, log: runtime.log }));
  app.use('*', securityHeaders({ hsts: runtime.config.PUBLIC_BASE_URL.startsWith('https:') }));

  app.onError((err, c) => {
    if (err instanceof AppError) return appErrorResponse(err);
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      return problemResponse(res.status, err.message || 'request failed');
    }
    if (err instanceof SyntaxError) return problemResponse(400, 'the body is not valid JSON');
    const invalid = invalidValueDetail(err);
    if (invalid) return problemResponse(400, invalid);
    const log = c.get('ctx')?.log ?? runtime.log.child({ request_id: c.get('requestId') });
    if (isDatabaseUnavailable(err)) {
      // Nothing wrong with the request: the client may retry it, so a 503 rather than a 500.
      log.warn({ err: String(err) }, 'database unavailable');
      return problemResponse(503, 'the database is unavailable; retry later', undefined, { 'retry-after': '5' });
    }
    log.error({ err }, 'unhandled error');
    return problemResponse(500, `an unexpected error occurred (request ${c.get('requestId') ?? 'unknown'})`);
  });
  app.notFound(notFoundOrNotAllowed(app, (method, path) => `no route for ${method} ${path}`));

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    const checks: Record<string, 'ok' | 'unavailable'> = {};
    await Promise.all([
      runtime.database.ping().then(
        () => (checks.database = 'ok'),
        () => (checks.database = 'unavailable'),
      ),
      runtime.queues.ping().then(
        () => (checks[runtime.queues.kind === 'bullmq' ? 'redis' : 'queue'] = 'ok'),
        () => (checks[runtime.queues.kind === 'bullmq' ? 'redis' : 'queue'] = 'unavailable'),
      ),
    ]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    return c.json({ status: ok ? 'ready' : 'unavailable', checks }, ok ? 200 : 503);
  });
  // With several processes per host, every process's metrics summed (cluster.ts).
  app.get('/metrics', async (c) => c.text(await metricsText(registry), 200, { 'content-type': registry.contentType }));
  app.route('/', docsRoutes);
  app.route('/', consoleRoutes());
  app.route('/', adminQueueRoutes(runtime));
  app.route('/', mediaLinkRoutes(runtime));

  // GET and HEAD carry no body; asking for one would make the Node adapter build a full
  // fetch Request (abort signal included) on every read, a measurable share of a list call.
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    // Uploads stream to the media store, which holds them to MEDIA_MAX_BYTES.
    if (c.req.method === 'POST' && MEDIA_UPLOAD_PATH.test(c.req.path)) return next();
    return (await limitBody(c, runtime.config.API_BODY_LIMIT)) ?? next();
  });
  // One nesting limit for every JSON body, before any handler parses it (validators reuse the text read here).
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !JSON_TYPE.test(c.req.header('content-type') ?? ''))
      return next();
    if (jsonNestsDeeperThan(await c.req.text())) return problemResponse(400, TOO_DEEP);
    return next();
  });
  app.use('/api/*', authenticate());
  app.use('/api/v1/tenants/:tenant/communications/*', tenantScope());

  app.route('/', tenantRoutes);
  app.route('/', conversationRoutes);
  app.route('/', messageRoutes);
  app.route('/', quickReplyRoutes);
  app.route('/', channelAccountRoutes);
  app.route('/', chatRoutes);
  app.route('/', settingsRoutes);
  app.route('/', mediaRoutes);
  app.route('/', webhookEndpointRoutes);
  options.extend?.(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access or service token from the User Service',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Communication Service API',
      version: '1.0.0',
      description: 'Inbox and team chat for travel agencies. Errors are application/problem+json.',
    },
    servers: [{ url: runtime.config.PUBLIC_BASE_URL }],
  });
  return app;
}

export type ApiApp = ReturnType<typeof createApiApp>;
