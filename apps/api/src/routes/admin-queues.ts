/**
 * /admin/queues: Bull Board over the BullMQ queues, for tenant admins and super admins — failed jobs
 * stay visible there and can be retried. In the embedded mode (no Redis) it answers the queue counts as JSON.
 * A browser cannot send a Bearer header to a dashboard, so `?token=` is accepted once and kept in an
 * HttpOnly cookie scoped to /admin/queues.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { AppError, bullQueuesForBoard, isTenantAdmin, type Runtime } from '@comms/core/platform';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { bearerToken } from '../middleware/auth.js';

const BASE = '/admin/queues';
const COOKIE = 'comms_admin_token';

function adminOnly(runtime: Runtime): MiddlewareHandler {
  return async (c, next) => {
    const fromQuery = c.req.query('token');
    const token = bearerToken(c.req.header('authorization')) ?? fromQuery ?? getCookie(c, COOKIE);
    if (!token) throw new AppError('unauthorized', 'an admin token is required (Authorization: Bearer, or ?token=)');
    const principal = await runtime.auth.verify(token);
    if (!isTenantAdmin(principal))
      throw new AppError('forbidden', 'the queue dashboard is for tenant admins and super admins');
    if (fromQuery)
      setCookie(c, COOKIE, fromQuery, {
        httpOnly: true,
        sameSite: 'Strict',
        path: BASE,
        secure: runtime.config.production,
      });
    await next();
  };
}

export function adminQueueRoutes(runtime: Runtime): Hono {
  const app = new Hono();
  app.use(`${BASE}`, adminOnly(runtime));
  app.use(`${BASE}/*`, adminOnly(runtime));
  if (runtime.queues.kind !== 'bullmq' || !runtime.config.REDIS_URL) {
    app.get(BASE, async (c) => c.json({ mode: runtime.queues.kind, queues: await runtime.queues.counts() }));
    return app;
  }
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(BASE);
  createBullBoard({
    queues: bullQueuesForBoard(runtime.config.REDIS_URL, runtime.config.QUEUE_PREFIX).map((q) => new BullMQAdapter(q)),
    serverAdapter,
  });
  app.route(BASE, serverAdapter.registerPlugin());
  return app;
}
