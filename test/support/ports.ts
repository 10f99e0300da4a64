/** Loopback ports for servers a test starts itself (an app in a child process, a redis-server). */
import { createServer } from 'node:net';

/** A port that was free a moment ago: the OS picked it for a listener that closed at once. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
