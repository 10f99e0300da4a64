/**
 * A TCP proxy on loopback between the service and PostgreSQL or Redis, which a test or a chaos scenario makes
 * faulty: cut (every connection dropped, new ones refused), latency (each chunk held back), stall (connections
 * stay open but nothing passes, as with a dead peer behind a firewall), heal.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { testDatabaseUrl } from './env.js';

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Holds every chunk back this long, both ways (0: none). */
  latency(ms: number): void;
  /** Lets nothing through, on open connections or new ones, until heal(); nothing is closed. */
  stall(): void;
  /**
   * The connections open now go dead for good, as when a firewall or a failover forgets them: nothing passes on
   * them again and nothing tells either end. New connections work.
   */
  blackhole(): void;
  /** Ends latency and stalls; what was held back goes through. */
  heal(): void;
  /** Connections open through the proxy now. */
  open(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let delayMs = 0;
  let stalled = false;
  const held: (() => void)[] = [];
  const dead = new WeakSet<Socket>();
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (dead.has(from)) return;
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (stalled) held.push(send);
      else if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  };
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        forward(client, upstream);
        forward(upstream, client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      held.length = 0;
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    latency(ms) {
      delayMs = ms;
    },
    stall() {
      stalled = true;
    },
    blackhole() {
      for (const socket of sockets) dead.add(socket);
    },
    heal() {
      stalled = false;
      delayMs = 0;
      for (const send of held.splice(0)) send();
    },
    open: () => sockets.size / 2,
    close: stop,
  };
}

/** A proxy in front of the test database, and the database URL that goes through it. */
export async function proxiedTestDatabase(): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(testDatabaseUrl());
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const url = new URL(testDatabaseUrl());
  url.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: url.toString() };
}
