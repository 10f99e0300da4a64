/** Request id, one log line per request (no bodies, no identifiers), and Prometheus request metrics. */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';

/** The context variable every app's routes may read. */
export interface ObservedEnv {
  Variables: { requestId: string };
}

/** The request metrics of a registry; two apps serving one process (`npm start`) share them. */
export function createHttpMetrics(registry: Registry) {
  const existing = registry.getSingleMetric('http_requests_total');
  if (existing)
    return {
      requests: existing as Counter,
      duration: registry.getSingleMetric('http_request_duration_seconds') as Histogram,
    };
  return {
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

export function observe(
  metrics: HttpMetrics,
  options: { logRequests: boolean; log: Logger },
): MiddlewareHandler<ObservedEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    await next();
    // On the response's own headers: `c.header()` after the handler would rebuild the response around
    // its body as a stream, and the Node adapter would then copy that stream out chunk by chunk.
    // HEAD is answered with a new Response built from the GET one's original headers, so it needs c.header().
    if (c.req.method === 'HEAD') c.header('x-request-id', requestId);
    else c.res.headers.set('x-request-id', requestId);
    const status = String(c.res.status);
    // The route template (`/conversations/:id`), never the concrete path: ids and slugs stay out of labels.
    const route = routePath(c) || 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    const labels = { method: c.req.method, route, status };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, seconds);
    // No child logger per request: a tenant route's context makes the one it needs (see tenantScope).
    if (options.logRequests)
      options.log.info(
        {
          request_id: requestId,
          method: c.req.method,
          route,
          status: c.res.status,
          duration_ms: Math.round(seconds * 1000),
        },
        'request',
      );
  };
}
