/** Loopback ports for servers a test starts itself (an app in a child process, a redis-server). */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The lowest ephemeral port: the OS takes source ports of outgoing connections (and `listen(0)` ports) at or above
 * it, so a port picked there and bound a moment later can have been taken by any test's connection meanwhile
 * (seen: a child of `npm start` failing with EADDRINUSE and being forked again). Ports are picked below it.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const LOW = 10_000;
const HIGH = Math.max(LOW + 1_000, ephemeralStart());

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** A port that was free a moment ago, outside the range the OS hands out on its own. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`);
}
