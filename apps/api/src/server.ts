/** Serving a Hono app on Node, with a graceful close. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A fetch handler as @hono/node-server calls it: `env` carries the Node request and response
 * (`{ incoming, outgoing }`); a router in front of several apps passes it on, so they can use them.
 */
export type FetchHandler = (req: Request, env?: object) => Response | Promise<Response>;

export function listen(fetch: FetchHandler, options: { host: string; port: number }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
      const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
      resolve({
        server: server as Server,
        port: info.port,
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).close(() => done());
            (server as Server).closeAllConnections?.();
          }),
      });
    }) as Server;
    server.once('error', reject);
    // Slow clients must not hold sockets forever; keep-alive a little over common proxy defaults.
    server.keepAliveTimeout = 65_000;
  });
}
