/** The API and its WebSocket on one port, as `npm run start:api` serves them (and the benchmark measures them). */
import { listen, serverLimits } from '@comms/core/http';
import type { Runtime } from '@comms/core/platform';
import { type ApiAppOptions, createApiApp } from './app.js';
import { attachRealtime } from './ws/hub.js';

export interface ServedApi {
  url: string;
  /** Closes the WebSocket hub, the server and the runtime, in that order. */
  close(): Promise<void>;
}

export async function serveApi(
  runtime: Runtime,
  at: { host: string; port: number },
  options: ApiAppOptions = {},
): Promise<ServedApi> {
  const server = await listen(createApiApp(runtime, options).fetch, { ...at, ...serverLimits(runtime) });
  const realtime = attachRealtime(server.server, runtime);
  return {
    url: server.url,
    async close() {
      await realtime.close();
      await server.close();
      await runtime.close();
    },
  };
}
